"""`twinlake stack up|down|status`: the local stack (Kafka and the S3 store on 127.0.0.1), see `twinlake.cli.stack`."""

from __future__ import annotations

import typer

from twinlake.cli.command import ExitCode, new_app

app = new_app(no_args_is_help=True)


@app.callback()
def stack() -> None:
    """The local stack: Kafka (KRaft) and the S3 store (versitygw) as processes on 127.0.0.1.

    Ports: TWINLAKE_KAFKA_PORT (9092), TWINLAKE_KAFKA_CONTROLLER_PORT (9093), TWINLAKE_S3_PORT (7070). Data, logs,
    PID files and the env file with the generated keys live in TWINLAKE_STATE_DIR (~/.local/state/twinlake);
    downloads and builds are cached in TWINLAKE_CACHE_DIR (~/.cache/twinlake).
    """


@app.command()
def up() -> None:
    """Start Kafka and the store, then create the topics and buckets; installs them on first use.

    Every port and prerequisite (Java 17+, and Maven and Go for the first install) is checked before anything
    starts. What already runs is checked and kept. The first start downloads and builds (about a minute).
    """
    from twinlake.cli import stack as local_stack
    from twinlake.settings import environment

    local_stack.quiet_client_logs()
    local_stack.cmd_up(environment())


@app.command()
def down() -> None:
    """Stop the store, then Kafka (SIGTERM, then SIGKILL after 20 s); data is kept. Stopping a stopped stack is fine."""
    from twinlake.cli import stack as local_stack
    from twinlake.settings import environment

    local_stack.cmd_down(environment())


@app.command()
def status() -> None:
    """What runs, where, and whether it answers: PID, port and log of each process, and the env file.

    Exit code 0 when both answer, 1 otherwise.
    """
    from twinlake.cli import stack as local_stack
    from twinlake.settings import environment

    local_stack.quiet_client_logs()
    if local_stack.cmd_status(environment()) != 0:
        raise typer.Exit(ExitCode.NO)
