"""`make demo`: generate the three CSVs, upload them, let the engines' workers pick up the events, print a summary.

The stack is started by the Makefile (`stack-up`) before this script. The workers run as real processes consuming
the real event topic, exactly as they would in the cluster; this script only watches the store for the pointers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from jobs.pandas_engine.tables import read_table
from twinlake.inputs import input_fingerprint, list_landing
from twinlake.layout import Engine, Location, RunLayout, engine_pointer
from twinlake.manifest import RunManifest, read_manifest
from twinlake.pointer import read_pointer
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import ObjectStore, S3Store

console = Console()
REPO = Path(__file__).resolve().parent.parent
WORKERS: dict[Engine, list[str]] = {Engine.PANDAS: [sys.executable, "-m", "jobs.pandas_engine"]}


def run(cmd: list[str]) -> None:
    console.print(f"[bold]$ {' '.join(cmd)}[/bold]")
    subprocess.run(cmd, check=True, cwd=REPO)


def clear_landing(store: ObjectStore, settings: Settings) -> None:
    """The demo owns the landing bucket: earlier demo files would otherwise join the input set."""
    store.delete_prefix(settings.landing_bucket, "")


def wait_for_run(
    store: ObjectStore, settings: Settings, engine: Engine, fingerprint: str, timeout: float
) -> RunManifest:
    """Wait until the engine's pointer names a run of exactly this input set, or its run of it failed."""
    deadline = time.monotonic() + timeout
    where = engine_pointer(settings.gold_bucket, engine)
    while time.monotonic() < deadline:
        found = read_pointer(store, where)
        if found is not None:
            manifest = read_manifest(store, Location(settings.gold_bucket, found[0].manifest))
            if manifest.input_fingerprint == fingerprint:
                return manifest
        for obj in store.list(settings.gold_bucket, f"{engine}/"):
            if obj.key.endswith(f"{fingerprint[:6]}/_manifest.json"):
                manifest = read_manifest(store, Location(settings.gold_bucket, obj.key))
                if manifest.input_fingerprint == fingerprint and not manifest.succeeded:
                    return manifest
        time.sleep(0.5)
    raise TimeoutError(f"no {engine} run of the uploaded files within {timeout:.0f} s")


def summary(store: ObjectStore, settings: Settings, manifest: RunManifest, landed_at: float) -> None:
    console.rule(f"{manifest.engine} run {manifest.run_id}: {manifest.status}")
    if not manifest.succeeded:
        console.print(f"[red]error:[/red] {manifest.error}")
        return
    rows = Table("dataset", "rows in", "clean", "rejected", "top reject rules")
    for name, counts in manifest.datasets.items():
        top = sorted(((n, c) for c, n in counts.rejected_by_rule.items() if n), reverse=True)[:3]
        rows.add_row(
            name,
            f"{counts.rows_in:,}",
            f"{counts.rows_clean:,}",
            f"{counts.rows_rejected:,}",
            ", ".join(f"{c} {n:,}" for n, c in top),
        )
    console.print(rows)
    layout = RunLayout(settings.lake, manifest.engine, manifest.run_id)
    kpi = read_table(store, layout.gold("kpi_global")).to_pylist()[0]
    console.print("kpi_global: " + ", ".join(f"{k}={v}" for k, v in kpi.items()))
    if manifest.seconds:
        s = manifest.seconds
        console.print(
            f"seconds: bronze {s.bronze}, silver {s.silver}, gold {s.gold}, total {s.total}; "
            f"peak memory {(manifest.peak_memory_bytes or 0) / 2**20:.0f} MiB"
        )
    console.print(f"landed-to-pointer: {time.monotonic() - landed_at:.1f} s (upload finished -> pointer seen)")
    console.print(f"Gold tables: {layout.gold_prefix.uri()}   manifest: {layout.manifest.uri()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", default="data/generated")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    settings = Settings.load()
    store = S3Store(s3_client(settings))
    run([sys.executable, "-m", "producers.generate", "--rows", str(args.rows), "--out", args.out])
    clear_landing(store, settings)
    logs = Path(os.environ.get("TWINLAKE_DEMO_LOGS", REPO / "data" / "logs"))
    logs.mkdir(parents=True, exist_ok=True)
    workers = {}
    for engine, cmd in WORKERS.items():
        log_file = (logs / f"{engine}-worker.log").open("w")
        workers[engine] = subprocess.Popen(cmd, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT)
        console.print(f"started the {engine} worker (log: {log_file.name})")
    try:
        run([sys.executable, "-m", "producers.upload", args.out])
        landed_at = time.monotonic()
        fingerprint = input_fingerprint(list_landing(store, settings.landing_bucket))
        manifests = {e: wait_for_run(store, settings, e, fingerprint, args.timeout) for e in workers}
        for manifest in manifests.values():
            summary(store, settings, manifest, landed_at)
        return 0 if all(m.succeeded for m in manifests.values()) else 1
    finally:
        for proc in workers.values():
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
