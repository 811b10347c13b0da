"""How every twinlake command is built and how it ends: one help style, `--debug`, exit codes, short error messages.

Every entrypoint (`twinlake ...`, and `python -m producers.generate`, `python -m jobs.pandas_engine`, ...) is a typer
app made by `new_app` and run by `run`. An expected problem (the store or Kafka unreachable, a setting missing, a
run not found, a `UserError`) is printed as one or two lines, what and where, then the next step, with exit code 2;
`--debug`, which every command has, prints the traceback as well. Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import Any, ClassVar, NoReturn

import click
import typer
from typer.core import TyperGroup

EXIT_CODES = (
    "Exit codes: 0 done; 1 done, and the answer is no (runs differ, a run failed, a service is down); "
    "2 nothing done: a wrong option, a missing setting, the store or Kafka unreachable, a run or table not found; "
    "130 interrupted."
)
HELP_OPTIONS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class ExitCode(IntEnum):
    OK = 0
    NO = 1  # the command ran and its answer is no: runs differ, a run failed, a component is down
    UNUSABLE = 2  # nothing was done: usage, settings, an unreachable service, something not found
    INTERRUPTED = 130


class UserError(Exception):
    """An expected problem, said in a line or two (what, where), with the next step; exit code 2."""

    def __init__(self, message: str, next_step: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step


class _Debug:
    """Whether `--debug` was given to the command being run."""

    on = False

    @classmethod
    def set(cls, ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        cls.on = cls.on or value
        return value


def new_app(help: str | None = None, **settings: Any) -> typer.Typer:
    """A typer app in the house style: rich help, `-h`, no shell-completion options, our own error handling.

    A group's help is its callback's docstring (or `help`); a command's help is its docstring.
    """
    if help is not None:
        settings["help"] = help
    return typer.Typer(
        rich_markup_mode="rich",
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings=HELP_OPTIONS,
        **settings,
    )


def finish(command: click.Command) -> click.Command:
    """Give a command (and each of its subcommands) `--debug` and the exit codes in its epilog."""
    if not any(param.name == "debug" for param in command.params):
        command.params.append(
            click.Option(
                ["--debug"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=_Debug.set,
                help="On an error, also print the full traceback.",
            )
        )
    command.epilog = command.epilog or EXIT_CODES
    if command.help:
        command.help = reflow(command.help)
    if isinstance(command, click.Group) and not isinstance(command, LazyCommands):
        for sub in command.commands.values():
            finish(sub)
    return command


def reflow(text: str) -> str:
    """Join the lines of each paragraph (source line breaks are not the terminal's); keep list items and indented
    blocks line by line."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.splitlines()
        keep = any(line.startswith(("- ", " ")) for line in lines[1:])
        paragraphs.append(paragraph if keep else " ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


class LazyCommands(TyperGroup):
    """A group whose subcommands are imported when used: `twinlake runs` never imports Spark or the generator.

    `lazy` maps a name to `(module:attribute, help panel)`, the attribute being a typer app (one command, or a
    group of them). Subclasses set it.
    """

    lazy: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self.lazy]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self.commands:
            target, panel = self.lazy[cmd_name]
            module_name, _, attribute = target.partition(":")
            module = __import__(module_name, fromlist=[attribute])
            command = finish(typer.main.get_command(getattr(module, attribute)))
            command.name = cmd_name
            command.rich_help_panel = panel  # type: ignore[attr-defined]
            self.commands[cmd_name] = command
        return self.commands[cmd_name]


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """An exception class, if its module is imported (an exception can only be raised by loaded code)."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _is(exc: BaseException, module: str, *names: str) -> bool:
    return any((cls := _loaded(module, name)) is not None and isinstance(exc, cls) for name in names)


def explain(exc: BaseException) -> UserError | None:
    """The short message for an expected problem; None for anything else (a bug: show its traceback)."""
    from twinlake.reach import START_STACK, Unavailable, connection_reason

    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, Unavailable):
        return UserError("\n".join(p.what for p in exc.problems), exc.next_step())
    if _is(exc, "twinlake.settings", "MissingSetting") or _is(exc, "twinlake.cli.stack", "StackError"):
        return UserError(str(exc))
    if _is(exc, "twinlake.catalog", "RunNotFound") or _is(exc, "twinlake.tables", "TableNotFound"):
        return UserError(str(exc), "`twinlake runs --all` lists every recorded run")
    if _is(exc, "botocore.exceptions", "EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        where = getattr(exc, "kwargs", {}).get("endpoint_url", "its endpoint")
        return UserError(
            f"cannot reach the S3 store at {where} ({connection_reason(exc)})",
            f"{START_STACK}, or check TWINLAKE_S3_ENDPOINT",
        )
    if _is(exc, "kafka.errors", "NoBrokersAvailable", "KafkaConnectionError"):
        return UserError(
            f"cannot reach Kafka ({type(exc).__name__})", f"{START_STACK}, or check TWINLAKE_KAFKA_BOOTSTRAP"
        )
    return None


def report(problem: UserError) -> None:
    lines = problem.message.splitlines() or [type(problem).__name__]
    for line in lines:
        click.echo(f"error: {line}", err=True)
    if problem.next_step:
        click.echo(f"  next: {problem.next_step}", err=True)


def run(app: typer.Typer, argv: Sequence[str] | None = None, prog_name: str | None = None) -> int:
    """Run a typer app as a program; returns the exit code (see `EXIT_CODES`)."""
    _Debug.on = False
    command = finish(typer.main.get_command(app))
    try:
        try:
            result = command.main(
                args=list(argv) if argv is not None else None, prog_name=prog_name, standalone_mode=False
            )
        except click.exceptions.Abort as exc:  # click turns Ctrl-C into Abort
            raise KeyboardInterrupt from exc
        return int(result) if isinstance(result, int) else ExitCode.OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            return _unexpected_or_explained(exc)
        # `twinlake runs | head`: the reader has gone, which is fine; nothing more is written to the pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:
        return _unexpected_or_explained(exc)


def _unexpected_or_explained(exc: Exception) -> int:
    problem = explain(exc)
    if problem is None or _Debug.on:
        traceback.print_exception(exc)
    if problem is None:
        return ExitCode.NO
    report(problem)
    return ExitCode.UNUSABLE


def exit_process(code: int) -> NoReturn:
    """End the program with `code`, its output flushed, without the interpreter's teardown.

    pyarrow's native thread pools can still hold a worker when Python finalizes, and tearing them down then aborts
    the process ("terminate called without an active exception", SIGABRT) after the command's work and output are
    complete (apache/arrow#34314). A command's exit code is its contract with scripts and Kubernetes, so the program
    ends here: logs and both streams are flushed first, so nothing written is lost.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can reach it anyway
            stream.flush()
    os._exit(code)
