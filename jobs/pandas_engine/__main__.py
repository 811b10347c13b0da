"""Entrypoint of the Pandas worker: `python -m jobs.pandas_engine [--once]` (settings from TWINLAKE_* / env file)."""

from __future__ import annotations

import argparse
import logging
import sys

from jobs.pandas_engine.run import ENGINE
from jobs.pandas_engine.worker import PandasWorker
from twinlake.broker import event_consumer, event_producer
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import S3Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.pandas_engine", description=__doc__)
    parser.add_argument("--once", action="store_true", help="reconcile landing once, run if needed, and exit")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("twinlake.dead_letter").setLevel(logging.WARNING)

    settings = Settings.load()
    store = S3Store(s3_client(settings))
    producer = event_producer(settings)
    if args.once:
        outcome = PandasWorker(settings, store, consumer=None, producer=producer).maybe_run()
        return 1 if outcome is not None and not outcome.manifest.succeeded else 0
    worker = PandasWorker(settings, store, event_consumer(settings, settings.consumer_group(ENGINE)), producer)
    worker.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
