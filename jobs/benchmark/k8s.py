"""`make bench-k8s`: one benchmark Job on the cluster, made from the chart's benchmark CronJob, followed to its end.

    python -m jobs.benchmark.k8s [--namespace twinlake] [--context kind-twinlake] [-- --rows 10k --repeats 1]

Through the Kubernetes API (the `kubernetes` client, never kubectl): read the suspended CronJob `benchmark` the chart
installs, create one Job from its jobTemplate (a new benchmark id, passed as `--bench-id` with any extra benchmark
flags as the container's args), wait for its pod, print the pod's log as it comes, wait for the Job to end, then copy
the results from `gold/benchmarks/<bench_id>/` (through the store's NodePort, with the benchmark role's Secret) to
`data/benchmark_results.csv` and `data/benchmark/`. The exit code is the benchmark's (see `python -m jobs.benchmark
--help`); 2 when the cluster, the CronJob or the store cannot be reached.
"""

from __future__ import annotations

import argparse
import base64
import copy
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jobs.benchmark.report import write_local
from jobs.benchmark.run import EXIT_SETUP, EXIT_UNVERIFIED
from jobs.benchmark.sweep import new_bench_id
from twinlake.benchmarks import LANDING_BACKUP, RESULTS_CSV, benchmark_folder
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import ObjectStore, S3Store

CRONJOB = "benchmark"  # charts/twinlake/templates/_helpers.tpl: twinlake.benchmark.name
CONTAINER = "benchmark"
SECRET = "store-benchmark-credentials"  # twinlake.secret.name of the benchmark role
DEFAULT_NAMESPACE = "twinlake"
STORE_ENDPOINT = "http://127.0.0.1:9000"  # the store's NodePort on the host (kind-config.yaml)
POD_TIMEOUT = 600.0  # image pull and scheduling
POLL_SECONDS = 2.0
Say = Callable[[str], None]


class ClusterError(RuntimeError):
    """The cluster, the CronJob or the Job's pod could not be reached or found."""


def job_name(bench_id: str) -> str:
    """`benchmark-20261201t101500z-1a2b3c`: a DNS label (lower case), one per benchmark."""
    return f"{CRONJOB}-{bench_id.lower()}"


def job_from_cronjob(cronjob: dict[str, Any], name: str, args: Sequence[str]) -> dict[str, Any]:
    """The Job a CronJob's template makes (as `kubectl create job --from=cronjob/...` does), with `args` appended
    to the benchmark container's command."""
    template = copy.deepcopy(cronjob["spec"]["jobTemplate"])
    metadata: dict[str, Any] = {
        "name": name,
        "labels": dict(template.get("metadata", {}).get("labels", {})),
        "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
    }
    owner = cronjob.get("metadata", {})
    if owner.get("uid"):
        metadata["ownerReferences"] = [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": owner["name"],
                "uid": owner["uid"],
                "controller": True,
            }
        ]
    spec = template["spec"]
    containers = spec["template"]["spec"]["containers"]
    (container,) = [c for c in containers if c["name"] == CONTAINER]
    container["args"] = list(args)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}


class Cluster(Protocol):
    """What `make bench-k8s` needs from the cluster (the Kubernetes API; a fake in the unit tests)."""

    def cronjob(self, name: str) -> dict[str, Any]: ...

    def create_job(self, job: dict[str, Any]) -> None: ...

    def pods_of_job(self, name: str) -> list[dict[str, Any]]: ...

    def log_lines(self, pod: str) -> Iterator[str]: ...

    def job(self, name: str) -> dict[str, Any]: ...

    def secret(self, name: str) -> dict[str, str]: ...


class KubernetesCluster:
    """`Cluster` over the official client; every object is handed on as plain JSON-like dicts."""

    def __init__(self, namespace: str, context: str | None) -> None:
        from kubernetes import client, config

        try:
            config.load_kube_config(context=context)
        except Exception as exc:  # no kubeconfig, unknown context
            raise ClusterError(f"no Kubernetes cluster to talk to ({exc}): run `make up` first") from exc
        self.namespace = namespace
        self._api = client.ApiClient()
        self._batch = client.BatchV1Api(self._api)
        self._core = client.CoreV1Api(self._api)

    def _plain(self, obj: Any) -> dict[str, Any]:
        found: dict[str, Any] = self._api.sanitize_for_serialization(obj)
        return found

    def cronjob(self, name: str) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._plain(self._batch.read_namespaced_cron_job(name, self.namespace))
        except ApiException as exc:
            raise ClusterError(
                f"no CronJob {name} in namespace {self.namespace} ({exc.status} {exc.reason}): install the chart "
                "with the benchmark enabled (`make up`)"
            ) from exc
        except Exception as exc:  # connection refused: the cluster is down
            raise ClusterError(f"the cluster does not answer ({exc}): is it up (`make up`)?") from exc

    def create_job(self, job: dict[str, Any]) -> None:
        self._batch.create_namespaced_job(self.namespace, job)

    def pods_of_job(self, name: str) -> list[dict[str, Any]]:
        pods = self._core.list_namespaced_pod(self.namespace, label_selector=f"job-name={name}")
        return [self._plain(p) for p in pods.items]

    def log_lines(self, pod: str) -> Iterator[str]:
        from kubernetes import watch

        yield from watch.Watch().stream(self._core.read_namespaced_pod_log, name=pod, namespace=self.namespace)

    def job(self, name: str) -> dict[str, Any]:
        return self._plain(self._batch.read_namespaced_job(name, self.namespace))

    def secret(self, name: str) -> dict[str, str]:
        data = self._core.read_namespaced_secret(name, self.namespace).data or {}
        return {k: base64.b64decode(v).decode() for k, v in data.items()}


@dataclass(frozen=True)
class JobOutcome:
    bench_id: str
    job: str
    exit_code: int
    reason: str


def wait_for_pod(cluster: Cluster, name: str, say: Say, timeout: float = POD_TIMEOUT) -> str:
    """The Job's pod once it runs (or already ended); says why it is still pending now and then."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        pods = cluster.pods_of_job(name)
        for pod in pods:
            phase = pod.get("status", {}).get("phase", "Pending")
            if phase in ("Running", "Succeeded", "Failed"):
                return str(pod["metadata"]["name"])
            why = "; ".join(
                f"{c['type']}: {c.get('message') or c.get('reason', '')}"
                for c in pod.get("status", {}).get("conditions", [])
                if c.get("status") == "False"
            )
            if why and why != last:
                say(f"pod {pod['metadata']['name']} pending: {why}")
                last = why
        time.sleep(POLL_SECONDS)
    raise ClusterError(f"the pod of Job {name} did not start within {timeout:.0f} s")


def job_end(cluster: Cluster, name: str, pod: str, timeout: float) -> tuple[int, str]:
    """Wait for the Job to complete or fail; the benchmark container's exit code and the Job's reason."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = cluster.job(name).get("status", {})
        ended = [
            c for c in status.get("conditions", []) if c.get("type") in ("Complete", "Failed") and c["status"] == "True"
        ]
        if ended:
            return container_exit_code(cluster, name, pod), f"{ended[0]['type']}: {ended[0].get('reason', '')}"
        time.sleep(POLL_SECONDS)
    raise ClusterError(f"Job {name} has not ended within {timeout:.0f} s")


def container_exit_code(cluster: Cluster, name: str, pod: str) -> int:
    for found in cluster.pods_of_job(name):
        if found["metadata"]["name"] != pod:
            continue
        for status in found.get("status", {}).get("containerStatuses", []):
            terminated = status.get("state", {}).get("terminated")
            if status["name"] == CONTAINER and terminated is not None:
                return int(terminated["exitCode"])
    return EXIT_UNVERIFIED  # the pod is gone (deleted, evicted) without an exit code


def run_benchmark_job(
    cluster: Cluster, extra_args: Sequence[str], say: Say, *, timeout: float, bench_id: str | None = None
) -> JobOutcome:
    """Create the Job from the CronJob, follow its pod's log, wait for its end."""
    bench_id = bench_id or new_bench_id()
    name = job_name(bench_id)
    job = job_from_cronjob(cluster.cronjob(CRONJOB), name, ["--bench-id", bench_id, *extra_args])
    cluster.create_job(job)
    say(f"created Job {name} from CronJob {CRONJOB} (benchmark {bench_id}); waiting for its pod")
    pod = wait_for_pod(cluster, name, say)
    say(f"pod {pod}: following its log")
    for line in cluster.log_lines(pod):
        say(line.rstrip("\n"))
    code, reason = job_end(cluster, name, pod, timeout)
    say(f"Job {name} ended ({reason}); the benchmark exited {code}")
    return JobOutcome(bench_id, name, code, reason)


def store_from_secret(cluster: Cluster, endpoint: str) -> tuple[S3Store, str]:
    """The store as the benchmark role reaches it from here (the NodePort), and the gold bucket's name."""
    keys = cluster.secret(SECRET)
    settings = Settings.model_validate(
        {"s3_endpoint": endpoint, "s3_access_key": keys["accessKey"], "s3_secret_key": keys["secretKey"]}
    )
    return S3Store(s3_client(settings)), settings.gold_bucket


def copy_results(store: ObjectStore, gold_bucket: str, bench_id: str, out: Path, say: Say) -> bool:
    """Copy `gold/benchmarks/<bench_id>/` (without the landing backup) to `out`; False when the benchmark wrote no
    results there."""
    folder = benchmark_folder(gold_bucket, bench_id)
    names = {o.key.removeprefix(folder.key): o.key for o in store.list(folder.bucket, folder.key)}
    files = {
        name: store.get(folder.bucket, key).body
        for name, key in names.items()
        if not name.startswith(LANDING_BACKUP + "/")
    }
    if RESULTS_CSV not in files:
        say(f"no results in {folder.uri()}")
        return False
    csv, local = write_local(files, out)
    say(f"results copied from {folder.uri()} to {csv} and {local}/")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m jobs.benchmark.k8s", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="the chart's namespace (default %(default)s)")
    p.add_argument("--context", default=None, help="kubeconfig context (default: the current one)")
    p.add_argument("--store-endpoint", default=STORE_ENDPOINT, help="the store's S3 API from here (%(default)s)")
    p.add_argument("--out", type=Path, default=Path("data"), help="where the results are copied (default data)")
    p.add_argument("--timeout", type=float, default=4 * 3600, help="longest wait for the Job, in seconds")
    p.add_argument("benchmark_args", nargs="*", help="flags for the benchmark, after `--` (e.g. -- --rows 10k)")
    args = p.parse_args(argv)

    def say(message: str) -> None:
        print(message, flush=True)

    try:
        cluster = KubernetesCluster(args.namespace, args.context)
        outcome = run_benchmark_job(cluster, args.benchmark_args, say, timeout=args.timeout)
    except ClusterError as exc:
        print(f"bench-k8s: {exc}", file=sys.stderr)
        return EXIT_SETUP
    try:
        store, gold = store_from_secret(cluster, args.store_endpoint)
        copy_results(store, gold, outcome.bench_id, args.out, say)
    except Exception as exc:  # the store's NodePort unreachable, the Secret missing
        print(f"bench-k8s: could not copy the results ({exc}); they are in the lake", file=sys.stderr)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
