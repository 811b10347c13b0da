"""Entrypoint of the Pandas worker: `python -m jobs.pandas_engine [--once]` (also `twinlake engine pandas`).

Runs with the `engines` store keys. On a cluster (`--wait-seconds N`) it first waits, bounded, for the events topic
and for its keys to list `landing` (exit code 3 if they are still missing then); it then checks that the store and
Kafka answer (exit code 2 with the next step if not).
"""

from __future__ import annotations

import logging
import sys

import typer

from jobs.engine_cli import LogLevelOption, OnceOption, WaitSecondsOption, ready_to_start
from twinlake.cli.command import ExitCode, new_app, run

app = new_app()


@app.command("pandas")
def pandas_worker(
    once: OnceOption = False,
    log_level: LogLevelOption = "INFO",
    wait_seconds: WaitSecondsOption = 0,
) -> None:
    """The Pandas worker: consume store events; for each new input set in landing, build Bronze, Silver and Gold.

    Settings come from TWINLAKE_* variables and the stack's env file; it uses the engines' store keys. It checks the
    store (landing) and Kafka (the events topic) before it starts, waiting for them up to --wait-seconds; it runs
    until SIGTERM or Ctrl-C, letting a run in progress finish. Exit codes: with --once, 1 means the run failed;
    3 means the topic or landing was still missing after --wait-seconds.
    """
    from jobs.pandas_engine.run import ENGINE
    from jobs.pandas_engine.worker import PandasWorker
    from twinlake.broker import dead_letters, event_consumer
    from twinlake.s3 import s3_client
    from twinlake.settings import Settings, StoreRole
    from twinlake.store import S3Store

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("twinlake.dead_letter").setLevel(logging.WARNING)

    settings = Settings.load(role=StoreRole.ENGINES)
    ready_to_start(settings, wait_seconds, logging.getLogger("jobs.pandas_engine"))
    store = S3Store(s3_client(settings))
    if once:
        worker = PandasWorker(settings, store, consumer=None, dead_letters=dead_letters(settings))
        outcome = worker.maybe_run()
        if worker.scheduler.last_error:
            print(f"the run could not be made: {worker.scheduler.last_error}", file=sys.stderr)
        if worker.scheduler.last_error or (outcome is not None and not outcome.manifest.succeeded):
            raise typer.Exit(ExitCode.NO)
        return
    consumer = event_consumer(settings, settings.consumer_group(ENGINE))
    worker = PandasWorker(settings, store, consumer, dead_letters(settings))
    worker.run_forever()


def main(argv: list[str] | None = None) -> int:
    return run(app, argv, prog_name="python -m jobs.pandas_engine")


if __name__ == "__main__":
    sys.exit(main())
