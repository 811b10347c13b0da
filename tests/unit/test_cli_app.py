"""The `twinlake` app as a whole: every command and group has help in one style, `--debug` and the exit codes;
the container entrypoints are the same commands; adding a subcommand is one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer

from twinlake.cli import command as cli_command
from twinlake.cli.app import SUBCOMMANDS, app, main
from twinlake.cli.command import EXIT_CODES, ExitCode, LazyCommands, UserError, new_app, reflow, run

REPO = Path(__file__).resolve().parents[2]


def every_command_path() -> list[list[str]]:
    """`[]` for the root, then every subcommand path, groups and their commands (imports each lazily)."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]
    todo: list[tuple[list[str], click.Command]] = [([], root)]
    ctx = click.Context(root)
    while todo:
        prefix, group = todo.pop()
        assert isinstance(group, click.Group)
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            assert sub is not None, f"{' '.join([*prefix, name])} does not load"
            paths.append([*prefix, name])
            if isinstance(sub, click.Group):
                todo.append(([*prefix, name], sub))
    return paths


def test_every_level_has_help_with_debug_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    paths = every_command_path()
    names = {" ".join(p) for p in paths}
    assert {"runs", "show", "rejects", "diff", "generate", "upload", "demo"} <= names
    assert {"stack up", "stack down", "stack status", "engine pandas", "engine spark"} <= names
    for path in paths:
        assert main([*path, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "--debug" in text and "Exit codes: 0 done" in text, f"twinlake {' '.join(path)} --help"
        assert f"Usage: twinlake {' '.join(path)}".strip() in text


def test_the_root_lists_the_commands_in_panels(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) in (0, 2)  # no command: the help
    text = capsys.readouterr().out
    for panel in ("Look at the lake", "Run the pipeline", "The local stack"):
        assert panel in text
    for name in SUBCOMMANDS:
        assert f" {name} " in text


def test_defaults_are_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--help"]) == 0
    text = capsys.readouterr().out
    assert "[default: 20]" in text and "[default: auto]" in text
    assert main(["generate", "--help"]) == 0
    text = capsys.readouterr().out
    assert "[default: 1000000]" in text and "[default: data/generated]" in text
    assert "three_decimals: invalid_amount, invalid_promo_value" in text  # the --rate kinds and their rules


@pytest.mark.parametrize(
    ("module", "entry"),
    [("producers.generate", "generate"), ("producers.upload", "upload"), ("jobs.pandas_engine", "engine pandas")],
)
def test_the_container_entrypoints_are_the_same_commands(module: str, entry: str) -> None:
    as_module = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    as_subcommand = subprocess.run(
        [str(Path(sys.executable).parent / "twinlake"), *entry.split(), "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    same = " ".join(as_module.replace(f"python -m {module}", f"twinlake {entry}").split())
    assert same == " ".join(as_subcommand.split())


def test_the_spark_engine_main_file_has_help_without_starting_spark() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "jobs" / "spark_engine" / "__main__.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert "--checkpoint" in done.stdout and "--reconcile-seconds" in done.stdout
    import jobs.spark_engine.__main__ as spark_main

    check = subprocess.run(
        [sys.executable, "-c", "import jobs.spark_engine.__main__, sys; print('pyspark' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert check.stdout.strip() == "False"
    from jobs.spark_engine.stream import DEFAULT_TRIGGER

    assert spark_main.DEFAULT_TRIGGER == DEFAULT_TRIGGER


def test_a_new_subcommand_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """What the README tells an engineer adding e.g. `twinlake retention`: a typer app and one line."""
    extra = new_app()

    @extra.command()
    def hello(name: str = "lake") -> None:
        """Say hello."""
        if name == "nobody":
            raise UserError("nobody is here", "try another name")
        print(f"hello {name}")

    module = type(sys)("extra_commands")
    module.app = extra  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "extra_commands", module)
    monkeypatch.setitem(SUBCOMMANDS, "hello", ("extra_commands:app", "Run the pipeline"))

    assert main(["hello", "--name", "you"]) == 0
    assert capsys.readouterr().out == "hello you\n"
    assert main(["hello", "--help"]) == 0
    assert "Exit codes" in capsys.readouterr().out
    assert main(["hello", "--name", "nobody"]) == ExitCode.UNUSABLE
    assert capsys.readouterr().err == "error: nobody is here\n  next: try another name\n"


def test_errors_bugs_debug_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    broken = new_app()

    @broken.command()
    def fail(kind: str = "user") -> None:
        """Fail."""
        if kind == "user":
            raise UserError("the thing is missing", "make it")
        raise ZeroDivisionError("a bug")

    assert run(broken, ["--kind", "user"]) == 2
    err = capsys.readouterr().err
    assert err == "error: the thing is missing\n  next: make it\n"
    assert run(broken, ["--kind", "user", "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith("error: the thing is missing\n  next: make it\n")
    assert run(broken, ["--kind", "bug"]) == 1  # not an expected problem: the traceback, always
    assert "ZeroDivisionError: a bug" in capsys.readouterr().err
    assert run(broken, ["--no-such-option"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_exit_codes_are_documented_once() -> None:
    assert "0 done" in EXIT_CODES and "1 done, and the answer is no" in EXIT_CODES and "2 nothing done" in EXIT_CODES
    assert [int(c) for c in ExitCode] == [0, 1, 2, 130]
    one = new_app()
    one.command()(lambda: None)
    assert cli_command.finish(typer.main.get_command(one)).epilog == EXIT_CODES


def test_reflow_joins_paragraph_lines_and_keeps_lists() -> None:
    text = "First line.\n\nA paragraph\nwrapped in the source.\n\nKinds:\n- a: x\n- b: y"
    assert reflow(text) == "First line.\n\nA paragraph wrapped in the source.\n\nKinds:\n- a: x\n- b: y"


def test_lazy_groups_import_a_command_only_when_it_is_used() -> None:
    heavy = ("producers.generate", "jobs.pandas_engine.worker", "pyspark", "faker")
    code = (
        "import sys; from twinlake.cli.app import main; main(['runs', '--help']); "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert issubclass(type(typer.main.get_command(app)), LazyCommands)


def test_exit_process_keeps_the_exit_code_and_flushes_every_stream() -> None:
    code = (
        "import logging, sys; from twinlake.cli.command import exit_process; "
        "logging.basicConfig(stream=sys.stderr, format='%(message)s'); "
        "print('row,' * 50000); logging.getLogger('t').warning('the last log line'); "
        "sys.stderr.write('no newline at the end'); exit_process(3)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 3
    assert done.stdout == "row," * 50000 + "\n"
    assert done.stderr == "the last log line\nno newline at the end"


def test_the_console_script_ends_with_the_command_exit_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twinlake.cli", "show", "--format", "nosuch"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 2, done.stderr
    assert "nosuch" in done.stderr
