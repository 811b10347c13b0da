"""Upload landing CSVs into the landing bucket, which makes the store emit the events the engines consume.

    twinlake upload data/generated                  # clients.csv, purchases.csv, promotions.csv
    twinlake upload data/generated --dated          # clients/2026-11-26.csv, ...
    twinlake upload extra.csv --prefix clients/     # clients/extra.csv
    python -m producers.upload ...                  # the same program

A folder stands for its `*.csv` files (not recursive; so `truth.json` is never uploaded), in dataset
processing order (clients first, then purchases and promotions, then any other name); files named explicitly
are uploaded as given, in the order given. Keys: the file name at the bucket root, or `<stem>/<day>.csv` with
`--dated`, after an optional `--prefix`. Uploads use boto3's managed transfer (multipart above 16 MiB, 16 MiB
parts), with the `uploader` store keys.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from twinlake.cli.command import UserError, new_app, run
from twinlake.datasets import DatasetName
from twinlake.layout import dataset_for_key
from twinlake.settings import Settings, StoreRole
from twinlake.store import normalize_etag

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("twinlake.upload")

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 16 * MIB
MULTIPART_CHUNK = 16 * MIB
_DATASET_ORDER = {str(name): rank for rank, name in enumerate(DatasetName)}


@dataclass(frozen=True)
class UploadedObject:
    """One uploaded file: where it went, its ETag (unquoted) and size as the store reports them, the time."""

    path: Path
    bucket: str
    key: str
    etag: str
    size: int
    seconds: float

    @property
    def mb_per_s(self) -> float:
        return self.size / MIB / self.seconds if self.seconds > 0 else float("inf")


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given; a folder becomes its `*.csv` files, clients first. Duplicates are dropped."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv"]
            out.extend(sorted(found, key=lambda p: (_DATASET_ORDER.get(p.stem, len(_DATASET_ORDER)), p.name)))
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return list(dict.fromkeys(out))


def object_key(path: Path, prefix: str = "", day: date | None = None) -> str:
    """`clients.csv`, or `clients/<day>.csv` when a day is given; `prefix` (a folder) goes in front."""
    name = f"{path.stem}/{day.isoformat()}{path.suffix}" if day else path.name
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return prefix.lstrip("/") + name


def transfer_config() -> TransferConfig:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_CHUNK,
        preferred_transfer_client="classic",  # never CRT: it does not honour every endpoint setting
    )


class _Progress:
    """A rich progress bar on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._enabled = enabled
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            disable=not enabled,
        )

    def __enter__(self) -> _Progress:
        if self._enabled:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._bar.__exit__(None, None, None)

    def task(self, description: str, total: int) -> Callable[[int], None]:
        task_id = self._bar.add_task(description, total=total)

        def advance(sent: int) -> None:  # boto3 calls this from its transfer threads
            self._bar.update(task_id, advance=sent)

        return advance


def upload_paths(
    settings: Settings,
    paths: Iterable[Path | str],
    *,
    prefix: str = "",
    dated: bool = False,
    day: date | None = None,
    client: S3Client | None = None,
    progress: bool | None = None,
) -> list[UploadedObject]:
    """Upload files (folders expand to their CSVs) into `settings.landing_bucket`; returns what was stored.

    `dated` puts each file under its dataset folder as `<stem>/<day>.csv` (`day` defaults to today, UTC).
    `progress` defaults to showing a bar only when stderr is a terminal.
    """
    files = expand_paths(paths)
    if client is None:
        from twinlake.s3 import s3_client

        client = s3_client(settings)
    when = (day or datetime.now(UTC).date()) if dated else None
    show = sys.stderr.isatty() if progress is None else progress
    bucket = settings.landing_bucket
    config = transfer_config()
    uploaded: list[UploadedObject] = []
    with _Progress(show) as bar:
        for path in files:
            key = object_key(path, prefix, when)
            if dataset_for_key(key) is None:
                log.warning("%s: key %r belongs to no dataset; the engines will skip it", path, key)
            size = path.stat().st_size
            extra: dict[str, Any] = {"ContentType": "text/csv"} if path.suffix.lower() == ".csv" else {}
            started = time.perf_counter()
            client.upload_file(str(path), bucket, key, ExtraArgs=extra, Callback=bar.task(key, size), Config=config)
            seconds = time.perf_counter() - started
            head = client.head_object(Bucket=bucket, Key=key)
            uploaded.append(
                UploadedObject(
                    path=path,
                    bucket=bucket,
                    key=key,
                    etag=normalize_etag(head["ETag"]),
                    size=int(head["ContentLength"]),
                    seconds=seconds,
                )
            )
    return uploaded


app = new_app()


@app.command("upload")
def upload(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="CSV files, or folders of CSV files.")],
    prefix: Annotated[str, typer.Option("--prefix", help="Key prefix (a folder), e.g. clients/.")] = "",
    dated: Annotated[bool, typer.Option("--dated", help="Key DATASET/DAY.csv instead of DATASET.csv.")] = False,
    day: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="The day for --dated; default today (UTC).")
    ] = None,
    bucket: Annotated[str | None, typer.Option("--bucket", help="Bucket; default the landing bucket.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Never show a progress bar.")] = False,
) -> None:
    """Upload CSV files into the landing bucket; the store then notifies the engines through Kafka.

    A folder stands for its *.csv files (not recursive, so truth.json stays behind), clients first, then
    purchases and promotions; files named one by one go in the order given. Keys: the file name at the root of
    the bucket, or DATASET/DAY.csv with --dated; --prefix goes in front. The store is checked first: if it cannot
    be reached, nothing is read or sent.
    """
    from twinlake.reach import require

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    when = None
    if day is not None:
        try:
            when = date.fromisoformat(day)
        except ValueError as exc:
            raise typer.BadParameter(f"{day!r} is not a day written YYYY-MM-DD", param_hint="--date") from exc
    try:
        expand_paths(paths)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc
    settings = Settings.load(role=StoreRole.UPLOADER, landing_bucket=bucket)
    require(settings, buckets=[settings.landing_bucket])
    uploaded = upload_paths(
        settings,
        paths,
        prefix=prefix,
        dated=dated or when is not None,
        day=when,
        progress=False if no_progress else None,
    )
    for u in uploaded:
        speed = f"{u.seconds:.2f} s  {u.mb_per_s:.1f} MB/s"
        print(f"s3://{u.bucket}/{u.key}  etag={u.etag}  {u.size:,} bytes  {speed}")
    if not uploaded:
        raise UserError("nothing to upload: no CSV file in " + ", ".join(str(p) for p in paths))


def main(argv: Sequence[str] | None = None) -> int:
    return run(app, argv, prog_name="python -m producers.upload")


if __name__ == "__main__":
    raise SystemExit(main())
