"""Entrypoint of the Spark engine: `python -m jobs.spark_engine [--once]` (settings from TWINLAKE_* / env file).

Without `--once`: a Structured Streaming query on the events topic (see `jobs.spark_engine.stream`) plus a
periodic reconcile of landing in the driver; it runs until stopped. Exit codes (what a restart policy such as
spark-operator's `OnFailure` acts on):

- 0: stopped by SIGTERM / SIGINT (a run in progress is let finish first), or the query ended without an error;
- 1: the query failed (an error escaped a batch: the store unreachable, a manifest not written, ...), a periodic
  reconcile raised, or the query could not start;
- with `--once`: reconcile landing once, run if the input set changed; 1 if that run failed or an error escaped.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType

from jobs.spark_engine.session import build_session
from jobs.spark_engine.stream import DEFAULT_TRIGGER, SparkEngine, start_query, supervise
from twinlake.broker import event_producer
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import S3Store

log = logging.getLogger("jobs.spark_engine")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.spark_engine", description=__doc__)
    parser.add_argument("--once", action="store_true", help="reconcile landing once, run if needed, and exit")
    parser.add_argument("--master", default=None, help="Spark master (default TWINLAKE_SPARK_MASTER or local[*])")
    parser.add_argument("--trigger", default=DEFAULT_TRIGGER, help=f"processing-time trigger ({DEFAULT_TRIGGER})")
    parser.add_argument("--checkpoint", default=None, help="checkpoint URI (default s3a://<gold>/_checkpoints/...)")
    parser.add_argument(
        "--reconcile-seconds",
        type=float,
        default=None,
        help="list landing this often even without events (default TWINLAKE_RECONCILE_SECONDS, 60)",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    logging.getLogger("twinlake.dead_letter").setLevel(logging.WARNING)  # one line per skipped event otherwise

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)

    settings = Settings.load(reconcile_seconds=args.reconcile_seconds)
    store = S3Store(s3_client(settings))
    started = time.perf_counter()
    spark = build_session(settings, args.master)
    log.info("spark %s session ready in %.1f s", spark.version, time.perf_counter() - started)
    try:
        engine = SparkEngine(spark, settings, store, event_producer(settings))
        if args.once:
            outcome = engine.maybe_run()
            return 1 if outcome is not None and not outcome.manifest.succeeded else 0
        query = start_query(engine, trigger=args.trigger, checkpoint=args.checkpoint)
        log.info(
            "streaming query %s started: trigger %s, reconcile every %.0f s",
            query.id,
            args.trigger,
            settings.reconcile_seconds,
        )
        return supervise(query, engine, stop)
    except Exception:
        log.exception("the spark engine failed")
        return 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
