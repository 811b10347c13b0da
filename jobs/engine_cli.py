"""What both engines' entrypoints share: their common options, and the start-up checks before any work."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from twinlake.settings import Settings

OnceOption = Annotated[bool, typer.Option("--once", help="Reconcile landing once, run if needed, and exit.")]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="Logging level.")]
WaitSecondsOption = Annotated[
    float,
    typer.Option(
        "--wait-seconds", min=0, help="Wait this long for the topic and landing (on a cluster); 0: check once."
    ),
]


def ready_to_start(settings: Settings, wait_seconds: float, log: logging.Logger) -> None:
    """On a cluster (`wait_seconds` > 0) wait, bounded, for the events topic and `landing` (exit code 3 if they are
    still missing); then check that the store and Kafka can be used (`twinlake.reach.Unavailable`: exit code 2)."""
    from jobs.startup import EXIT_NOT_READY, NotReady, wait_for_engine_inputs
    from twinlake.reach import require
    from twinlake.s3 import s3_client

    if wait_seconds > 0:
        try:
            wait_for_engine_inputs(settings, s3_client(settings), wait_seconds)
        except NotReady as exc:
            log.error("%s", exc)
            raise typer.Exit(EXIT_NOT_READY) from exc
    require(settings, buckets=[settings.landing_bucket], topics=[settings.events_topic])
