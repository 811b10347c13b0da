"""`make bench-k8s` against a fake cluster: the Job is made from the CronJob, its pod followed, its end awaited,
its results copied; the real client is used only through `KubernetesCluster` (no kubectl anywhere)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs.benchmark import k8s
from jobs.benchmark.k8s import CONTAINER, CRONJOB, copy_results, run_benchmark_job
from twinlake.store import LocalStore

CRON: dict[str, Any] = {
    "metadata": {"name": CRONJOB, "uid": "cron-uid"},
    "spec": {
        "suspend": True,
        "jobTemplate": {
            "metadata": {"labels": {"app.kubernetes.io/component": "benchmark"}},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "containers": [{"name": CONTAINER, "command": ["python", "-m", "jobs.benchmark"]}],
                        "restartPolicy": "Never",
                    }
                },
            },
        },
    },
}


class FakeCluster:
    """Pending, then running, then succeeded with the benchmark's exit code."""

    def __init__(self, exit_code: int) -> None:
        self.exit_code = exit_code
        self.jobs: list[dict[str, Any]] = []
        self.polls = 0
        self.ended = False

    def cronjob(self, name: str) -> dict[str, Any]:
        assert name == CRONJOB
        return CRON

    def create_job(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)

    def pods_of_job(self, name: str) -> list[dict[str, Any]]:
        self.polls += 1
        pod: dict[str, Any] = {"metadata": {"name": f"{name}-abcde"}}
        if self.polls == 1:
            pod["status"] = {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "message": "0/1 nodes: Insufficient memory"}
                ],
            }
        elif not self.ended:
            pod["status"] = {"phase": "Running"}
        else:
            terminated = {"terminated": {"exitCode": self.exit_code}}
            pod["status"] = {"phase": "Failed", "containerStatuses": [{"name": CONTAINER, "state": terminated}]}
        return [pod]

    def log_lines(self, pod: str) -> Iterator[str]:
        yield "twinlake benchmark ...\n"
        yield "verified: every lane of every drop agreed\n"
        self.ended = True

    def job(self, name: str) -> dict[str, Any]:
        return {"status": {"conditions": [{"type": "Failed" if self.exit_code else "Complete", "status": "True"}]}}

    def secret(self, name: str) -> dict[str, str]:
        return {"accessKey": "a", "secretKey": "s"}


@pytest.mark.parametrize("exit_code", [0, 1])
def test_a_job_is_made_followed_and_its_exit_code_returned(monkeypatch: pytest.MonkeyPatch, exit_code: int) -> None:
    monkeypatch.setattr(k8s, "POLL_SECONDS", 0.0)
    cluster = FakeCluster(exit_code)
    said: list[str] = []
    outcome = run_benchmark_job(cluster, ["--rows", "10k"], said.append, timeout=5, bench_id="20261201T101500Z-1a2b3c")
    (job,) = cluster.jobs
    assert job["metadata"]["name"] == outcome.job == "benchmark-20261201t101500z-1a2b3c"
    assert job["metadata"]["ownerReferences"][0]["uid"] == "cron-uid"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["--bench-id", "20261201T101500Z-1a2b3c", "--rows", "10k"]
    assert outcome.exit_code == exit_code
    assert any("Insufficient memory" in line for line in said)
    assert "verified: every lane of every drop agreed" in said


def test_results_are_copied_without_the_landing_backup(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    bench = "20261201T101500Z-1a2b3c"
    for name in ("results.csv", "results.json", "report.md", "layers.png", "landing-before/clients.csv"):
        store.put("gold", f"benchmarks/{bench}/{name}", name.encode())
    assert copy_results(store, "gold", bench, tmp_path / "data", lambda _: None)
    assert (tmp_path / "data" / "benchmark_results.csv").read_bytes() == b"results.csv"
    assert sorted(p.name for p in (tmp_path / "data" / "benchmark").iterdir()) == [
        "layers.png",
        "report.md",
        "results.json",
    ]
    assert not copy_results(store, "gold", "20261201T101500Z-000000", tmp_path / "none", lambda _: None)


def test_the_launcher_talks_to_the_api_only() -> None:
    source = inspect.getsource(k8s)
    assert not any(call in source for call in ("subprocess", "os.system", "Popen", "shutil.which"))
