"""The uploader's key mapping, folder expansion and calls to boto3, without a network (a fake client)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from producers import upload as up
from twinlake.datasets import DatasetName
from twinlake.layout import dataset_for_key
from twinlake.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class FakeS3:
    """Records `upload_file` calls and answers `head_object` like S3 does (quoted ETag)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.calls: list[dict[str, Any]] = []

    def upload_file(self, filename: str, bucket: str, key: str, **kwargs: Any) -> None:
        body = Path(filename).read_bytes()
        self.calls.append({"filename": filename, "bucket": bucket, "key": key, **kwargs})
        kwargs["Callback"](len(body))
        self.objects[(bucket, key)] = body

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        body = self.objects[(Bucket, Key)]
        return {"ETag": f'"{hashlib.md5(body).hexdigest()}"', "ContentLength": len(body)}


@pytest.fixture
def settings() -> Settings:
    return Settings.load(env={}, s3_access_key="k", s3_secret_key="s", landing_bucket="landing-test")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("promotions.csv", "clients.csv", "purchases.csv", "extra.csv", "truth.json", "notes.txt"):
        (tmp_path / name).write_text(f"{name}\n", encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "clients.csv").write_text("x\n", encoding="utf-8")
    return tmp_path


def test_root_and_dated_keys() -> None:
    day = date(2026, 11, 26)
    assert up.object_key(Path("/data/clients.csv")) == "clients.csv"
    assert up.object_key(Path("/data/clients.csv"), day=day) == "clients/2026-11-26.csv"
    assert up.object_key(Path("x/purchases.csv"), prefix="purchases") == "purchases/purchases.csv"
    assert up.object_key(Path("batch-7.csv"), prefix="clients/") == "clients/batch-7.csv"
    assert up.object_key(Path("promotions.csv"), prefix="/archive/", day=day) == "archive/promotions/2026-11-26.csv"
    for name in DatasetName:  # every key the uploader makes by default maps back to its dataset
        assert dataset_for_key(up.object_key(Path(f"{name}.csv"))) is name
        assert dataset_for_key(up.object_key(Path(f"{name}.csv"), day=day)) is name


def test_folder_expands_to_its_csv_files_clients_first(folder: Path) -> None:
    found = up.expand_paths([folder])
    assert [p.name for p in found] == ["clients.csv", "purchases.csv", "promotions.csv", "extra.csv"]
    # explicit files keep their order and are not filtered; repeats are dropped
    explicit = up.expand_paths([folder / "notes.txt", folder / "clients.csv", folder, folder / "clients.csv"])
    assert [p.name for p in explicit] == [
        "notes.txt",
        "clients.csv",
        "purchases.csv",
        "promotions.csv",
        "extra.csv",
    ]
    with pytest.raises(FileNotFoundError):
        up.expand_paths([folder / "missing.csv"])


def test_upload_paths_puts_each_file_with_managed_transfer(settings: Settings, folder: Path) -> None:
    fake = FakeS3()
    done = up.upload_paths(settings, [folder], client=cast("S3Client", fake), progress=False)
    assert [u.key for u in done] == ["clients.csv", "purchases.csv", "promotions.csv", "extra.csv"]
    assert {u.bucket for u in done} == {"landing-test"}
    for u in done:
        body = (folder / u.key).read_bytes()
        assert u.size == len(body)
        assert u.etag == hashlib.md5(body).hexdigest()  # unquoted
        assert u.seconds >= 0 and u.mb_per_s > 0
    call = fake.calls[0]
    assert call["ExtraArgs"] == {"ContentType": "text/csv"}
    assert call["Config"].multipart_threshold == up.MULTIPART_THRESHOLD == 16 * 1024 * 1024
    assert call["Config"].multipart_chunksize == up.MULTIPART_CHUNK
    assert ("landing-test", "truth.json") not in fake.objects


def test_upload_paths_dated(settings: Settings, folder: Path) -> None:
    fake = FakeS3()
    client = cast("S3Client", fake)
    done = up.upload_paths(settings, [folder / "clients.csv"], dated=True, day=date(2026, 1, 2), client=client)
    assert [u.key for u in done] == ["clients/2026-01-02.csv"]


def test_cli_reports_missing_paths(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINLAKE_S3_ACCESS_KEY", "k")
    monkeypatch.setenv("TWINLAKE_S3_SECRET_KEY", "s")
    assert up.main(["/nonexistent/folder"]) == 2
    assert "no such file" in capsys.readouterr().err
