"""Entrypoint of the Spark engine: `python -m jobs.spark_engine [--once]` (also `twinlake engine spark`).

Without `--once`: a Structured Streaming query on the events topic (see `jobs.spark_engine.stream`) plus a
periodic reconcile of landing in the driver; it runs until stopped. Exit codes (what a restart policy such as
spark-operator's `OnFailure` acts on):

- 0: stopped by SIGTERM / SIGINT (a run in progress is let finish first), or the query ended without an error;
- 1: the query failed (an error escaped a batch: a missing bucket, a bug, the broker gone for the Kafka source,
  ...), a periodic reconcile raised, or the query could not start. A run the store's outage failed is not one of
  these: it is retried with back-off while the query goes on;
- 2: not started: the store or Kafka cannot be used, Java or the connector jars are missing, a setting is missing;
- 3: the events topic, or `landing` readable with the `engines` keys it runs with, still missing after
  `--wait-seconds` (on a cluster it waits for them before starting Spark, so it can start alongside the store);
- with `--once`: reconcile landing once, run if the input set changed; 1 if that run failed, could not be made
  (the store or the broker unreachable) or an error escaped.
"""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import threading
import time
from types import FrameType
from typing import Annotated

import typer

from jobs.engine_cli import LogLevelOption, OnceOption, WaitSecondsOption, ready_to_start
from twinlake.cli.command import ExitCode, UserError, new_app, run
from twinlake.settings import LocalSettings, Settings, StoreRole
from twinlake.store import ObjectStore

log = logging.getLogger("jobs.spark_engine")
DEFAULT_TRIGGER = "5 seconds"  # also `jobs.spark_engine.stream.DEFAULT_TRIGGER`, which imports pyspark

app = new_app()


@app.command("spark")
def spark_engine(
    once: OnceOption = False,
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master; default TWINLAKE_SPARK_MASTER, else local[*].")
    ] = None,
    trigger: Annotated[str, typer.Option("--trigger", help="Processing-time trigger of the query.")] = DEFAULT_TRIGGER,
    checkpoint: Annotated[
        str | None,
        typer.Option("--checkpoint", help="Checkpoint URI; default s3a://<gold bucket>/_checkpoints/spark-engine/."),
    ] = None,
    reconcile_seconds: Annotated[
        float | None,
        typer.Option(
            "--reconcile-seconds",
            help="List landing this often even without events; default TWINLAKE_RECONCILE_SECONDS (60).",
        ),
    ] = None,
    log_level: LogLevelOption = "INFO",
    wait_seconds: WaitSecondsOption = 0,
) -> None:
    """The Spark engine: a Structured Streaming query on the store events; a run for each new input set in landing.

    Settings come from TWINLAKE_* variables and the stack's env file; it uses the engines' store keys. Before Spark
    starts it checks the store (landing), Kafka (the events topic) and Java, waiting for the first two up to
    --wait-seconds. Exit codes: 0 stopped by SIGTERM or Ctrl-C (a run in progress finishes first); 1 the query or a
    reconcile failed, or with --once the run failed; 2 not started; 3 still not ready after --wait-seconds.
    """
    from twinlake.s3 import s3_client
    from twinlake.store import S3Store

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    logging.getLogger("twinlake.dead_letter").setLevel(logging.WARNING)  # one line per skipped event otherwise

    settings = Settings.load(role=StoreRole.ENGINES, reconcile_seconds=reconcile_seconds)
    ready_to_start(settings, wait_seconds, log)
    require_java()
    store = S3Store(s3_client(settings))
    code = serve(settings, store, once=once, master=master, trigger=trigger, checkpoint=checkpoint)
    if code:
        raise typer.Exit(code)


def require_java() -> None:
    """Spark needs a JVM: JAVA_HOME's, else `java` on PATH."""
    home = LocalSettings.load().java_home
    if (home is not None and (home / "bin" / "java").is_file()) or shutil.which("java"):
        return
    raise UserError("no Java found (JAVA_HOME unset, no `java` on PATH): Spark needs Java 17", "install a JDK 17+")


def serve(
    settings: Settings, store: ObjectStore, *, once: bool, master: str | None, trigger: str, checkpoint: str | None
) -> int:
    """Start Spark and the query (or one reconcile with `once`); the process exit code."""
    from jobs.spark_engine.jars import JarsError
    from jobs.spark_engine.session import build_session
    from jobs.spark_engine.stream import SparkWorker, start_query, supervise
    from twinlake.broker import dead_letters

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)

    started = time.perf_counter()
    try:
        spark = build_session(settings, master)
    except JarsError as exc:
        raise UserError(f"the Spark connector jars are not available: {exc}", "install Maven (mvn) once") from exc
    log.info("spark %s session ready in %.1f s", spark.version, time.perf_counter() - started)
    try:
        engine = SparkWorker(spark, settings, store, dead_letters(settings))
        if once:
            outcome = engine.maybe_run()
            if engine.scheduler.last_error:
                log.error("the run could not be made: %s", engine.scheduler.last_error)
            failed = outcome is not None and not outcome.manifest.succeeded
            return ExitCode.NO if failed or engine.scheduler.last_error else ExitCode.OK
        query = start_query(engine, trigger=trigger, checkpoint=checkpoint)
        log.info(
            "streaming query %s started: trigger %s, reconcile every %.0f s",
            query.id,
            trigger,
            settings.reconcile_seconds,
        )
        return supervise(query, engine, stop)
    except Exception:
        log.exception("the spark engine failed")
        return ExitCode.NO
    finally:
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    return run(app, argv, prog_name="python -m jobs.spark_engine")


if __name__ == "__main__":
    sys.exit(main())
