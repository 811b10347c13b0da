"""The `twinlake` command: one app for the lake (runs, show, rejects, diff), the pipeline and the local stack.

Adding a subcommand takes two steps. In your module, make a typer app with `twinlake.cli.command.new_app` and
give it one command (it becomes `twinlake NAME`) or several (they become `twinlake NAME SUB`); then add one line
to `SUBCOMMANDS` below: the name, `module:app`, and the help panel it is listed in. It gets `-h/--help`,
`--debug`, the exit codes, the short error messages, and it is imported only when it is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from twinlake.cli.command import EXIT_CODES, LazyCommands, exit_process, new_app, run

LOOK = "Look at the lake"
PIPELINE = "Run the pipeline"
LOCAL = "The local stack"

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "runs": ("twinlake.cli.lake:runs_app", LOOK),
    "show": ("twinlake.cli.lake:show_app", LOOK),
    "rejects": ("twinlake.cli.lake:rejects_app", LOOK),
    "diff": ("twinlake.cli.lake:diff_app", LOOK),
    "demo": ("twinlake.cli.demo:app", PIPELINE),
    "generate": ("producers.generate:app", PIPELINE),
    "upload": ("producers.upload:app", PIPELINE),
    "engine": ("twinlake.cli.engines:app", PIPELINE),
    "benchmark": ("jobs.benchmark.__main__:app", PIPELINE),
    "retention": ("jobs.retention:app", PIPELINE),
    "stack": ("twinlake.cli.local:app", LOCAL),
}


class TwinlakeCommands(LazyCommands):
    lazy: ClassVar[Mapping[str, tuple[str, str]]] = SUBCOMMANDS


app = new_app(
    cls=TwinlakeCommands,
    no_args_is_help=True,
    epilog=EXIT_CODES,
)


@app.callback()
def twinlake() -> None:
    """twinlake: one data lake, two engines. Look at runs and tables, run the pipeline, run the local stack.

    Settings come from TWINLAKE_* variables, then the env file `make stack-up` writes
    (<state dir>/stack.env); `twinlake COMMAND --help` says more about each command.
    """


def main(argv: Sequence[str] | None = None) -> int:
    return run(app, argv, prog_name="twinlake")


def console_main() -> None:
    """The `twinlake` console script: `main`, then the process ends with its exit code (see `exit_process`)."""
    exit_process(main())
