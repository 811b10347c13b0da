"""`twinlake engine pandas|spark`: the engines' own entrypoints (`python -m jobs.pandas_engine`, ...) as commands."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from twinlake.cli.command import LazyCommands, new_app


class EngineCommands(LazyCommands):
    lazy: ClassVar[Mapping[str, tuple[str, str]]] = {
        "pandas": ("jobs.pandas_engine.__main__:app", "Engines"),
        "spark": ("jobs.spark_engine.__main__:app", "Engines"),
    }


app = new_app(
    cls=EngineCommands,
    no_args_is_help=True,
)


@app.callback()
def engine() -> None:
    """Run an engine: consume store events and build Bronze, Silver and Gold for each new input set.

    Both check the store (the four buckets) and Kafka (the two topics) before they start, and stop with exit
    code 2 and the next step if either cannot be used. In the cluster the same programs run as
    `python -m jobs.pandas_engine` and `python -m jobs.spark_engine`.
    """
