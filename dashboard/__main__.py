"""`python -m dashboard`: serve the dashboard with Streamlit on one address and port, and print its URL.

    python -m dashboard --address 127.0.0.1 --port 8501

The same as `streamlit run dashboard/app.py` (whose settings are in `dashboard/.streamlit/config.toml`), with the
store settings checked first (missing credentials exit 2 with their names instead of a page that cannot read),
and the pages' libraries imported before the server starts, so the first visitor does not wait for them.
Health: `GET /_stcore/health` answers 200 once the server is up.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from twinlake.s3 import s3_client
from twinlake.settings import MissingSetting, Settings, StoreRole

APP = Path(__file__).resolve().parent / "app.py"
EXIT_MISSING_SETTING = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    return parser


# The libraries the pages import (seconds on a busy machine), paid here rather than by the first page view. The
# dashboard's own modules are left to the first run: their caches belong to the server's runtime.
PRELOAD = ("altair", "pandas", "pyarrow.compute", "pyarrow.parquet", "twinlake.catalog", "twinlake.compare")


def streamlit_arguments(address: str, port: int) -> list[str]:
    return ["run", str(APP), "--server.address", address, "--server.port", str(port)]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load(role=StoreRole.DASHBOARD)
    except MissingSetting as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_MISSING_SETTING
    host = "127.0.0.1" if args.address in ("0.0.0.0", "::") else args.address
    print(
        f"twinlake dashboard: http://{host}:{args.port} (lake: {settings.s3_endpoint}, bucket {settings.gold_bucket})"
    )
    sys.stdout.flush()
    for module in PRELOAD:
        importlib.import_module(module)
    s3_client(settings)  # botocore reads its S3 model once per process: here, not on the first page view
    from streamlit.web import cli

    cli.main(streamlit_arguments(args.address, args.port), prog_name="streamlit")  # serves until stopped
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
