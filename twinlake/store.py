"""Object storage behind one small interface: the S3 store for real runs, a folder for fast unit tests.

Everything that reads or writes the lake goes through `ObjectStore`. Both implementations share these
semantics:

- ETags are returned WITHOUT surrounding quotes, everywhere (`"abc"` on the wire is `abc` here).
- `put_if_absent` is create-only: it raises `PreconditionFailed` if the key already exists.
- `put_if_match` replaces an object only if its current ETag is the one given: it raises `PreconditionFailed`
  if the ETag differs or the object is gone.
- `list` returns every object under a prefix (all pages), sorted by key.

`S3Store` maps these onto S3 conditional writes (`PutObject` with `If-None-Match: *` / `If-Match: "<etag>"`).
`LocalStore` mirrors them on a folder: the ETag is the MD5 hex digest of the body (as S3 gives for a
single-part upload) and every write holds an exclusive lock and lands with an atomic `os.replace`.

This module imports neither boto3 nor botocore at import time: `S3Store` is handed a ready client.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_s3 import S3Client


class StoreError(RuntimeError):
    """Base class of the errors raised by an `ObjectStore`."""


class PreconditionFailed(StoreError):
    """A conditional write lost: the key exists (create-only) or its ETag is not the expected one."""


class NotFound(StoreError, KeyError):
    """The object does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class InvalidKey(StoreError, ValueError):
    """A bucket or key that the store cannot represent."""


@dataclass(frozen=True)
class StoredObject:
    """An object's content and the ETag of exactly that content."""

    body: bytes
    etag: str


@dataclass(frozen=True)
class ObjectInfo:
    """An object's metadata: its key, ETag (unquoted) and size in bytes."""

    key: str
    etag: str
    size: int


def normalize_etag(etag: str) -> str:
    """`"abc"` -> `abc`: ETags are compared and stored without their HTTP quotes."""
    return etag.strip().strip('"')


class ObjectStore(Protocol):
    """The storage operations the pipeline needs, with S3 semantics."""

    def get(self, bucket: str, key: str) -> StoredObject:
        """The object's body and ETag; raises `NotFound` if it does not exist."""
        ...

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        """The object's metadata, or None if it does not exist."""
        ...

    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with `prefix`, all pages, sorted by key."""
        ...

    def put(self, bucket: str, key: str, body: bytes) -> str:
        """Write unconditionally; returns the new ETag."""
        ...

    def put_if_absent(self, bucket: str, key: str, body: bytes) -> str:
        """Create-only write; raises `PreconditionFailed` if the key exists. Returns the new ETag."""
        ...

    def put_if_match(self, bucket: str, key: str, body: bytes, etag: str) -> str:
        """Replace only if the current ETag is `etag`; returns the new ETag.

        Raises `PreconditionFailed` if the ETag differs or the object is gone.
        """
        ...

    def list_folders(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        """The immediate sub-prefixes of `prefix` that hold objects (`<prefix><name>/`), sorted."""
        ...

    def read_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
        """Up to `length` bytes of the object from byte `start`; raises `NotFound` if it does not exist."""
        ...

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> str:
        """Copy an object inside the store (no download); returns the new object's ETag."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Delete one object (a missing one is not an error)."""
        ...

    def delete_prefix(self, bucket: str, prefix: str) -> None:
        """Delete every object whose key starts with `prefix` (nothing to delete is not an error)."""
        ...


class ObjectReader(io.RawIOBase):
    """A read-only, seekable file over one stored object, fetched in ranges (what a Parquet reader needs to read
    a footer and the column chunks it wants without downloading the whole object)."""

    def __init__(self, store: ObjectStore, bucket: str, key: str) -> None:
        super().__init__()
        info = store.head(bucket, key)
        if info is None:
            raise NotFound(f"{bucket}/{key} does not exist")
        self._store, self._bucket, self._key = store, bucket, key
        self.size = info.size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.size - self._position)
        if wanted <= 0:
            return 0
        data = self._store.read_range(self._bucket, self._key, self._position, wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def open_object(store: ObjectStore, bucket: str, key: str, buffer_size: int = 1 << 20) -> io.BufferedReader:
    """A buffered, seekable reader of one object (`buffer_size` bytes per ranged GET at the least)."""
    return io.BufferedReader(ObjectReader(store, bucket, key), buffer_size=buffer_size)


# -- S3 --------------------------------------------------------------------------------------------------

_PRECONDITION_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


def _error_code(exc: ClientError) -> tuple[str, int]:
    """The S3 error code and HTTP status of a botocore `ClientError`."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return code, status


def _is_precondition(exc: ClientError) -> bool:
    code, status = _error_code(exc)
    return code in _PRECONDITION_CODES or status == 412


def _is_not_found(exc: ClientError) -> bool:
    code, status = _error_code(exc)
    if code == "NoSuchBucket":  # a missing bucket is a setup error, not a missing object
        return False
    return code in _NOT_FOUND_CODES or status == 404


class S3Store:
    """`ObjectStore` over a boto3 S3 client (path-style addressing is the caller's choice of client)."""

    def __init__(self, client: S3Client, *, page_size: int = 1000) -> None:
        # botocore is loaded once a client exists; importing it here keeps it out of module import time.
        from botocore.exceptions import ClientError

        self._client = client
        self._client_error = ClientError
        self._page_size = page_size

    @property
    def client(self) -> S3Client:
        return self._client

    def get(self, bucket: str, key: str) -> StoredObject:
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except self._client_error as exc:
            if _is_not_found(exc):
                raise NotFound(f"s3://{bucket}/{key} does not exist") from exc
            raise
        with contextlib.closing(response["Body"]) as stream:
            body = stream.read()
        return StoredObject(body=body, etag=normalize_etag(response["ETag"]))

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        try:
            response = self._client.head_object(Bucket=bucket, Key=key)
        except self._client_error as exc:
            if _is_not_found(exc):
                return None
            raise
        return ObjectInfo(key=key, etag=normalize_etag(response["ETag"]), size=response["ContentLength"])

    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        found: list[ObjectInfo] = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self._page_size}):
            for item in page.get("Contents", []):
                found.append(ObjectInfo(key=item["Key"], etag=normalize_etag(item["ETag"]), size=item["Size"]))
        return sorted(found, key=lambda info: info.key)

    def put(self, bucket: str, key: str, body: bytes) -> str:
        response = self._client.put_object(Bucket=bucket, Key=key, Body=body)
        return normalize_etag(response["ETag"])

    def put_if_absent(self, bucket: str, key: str, body: bytes) -> str:
        try:
            response = self._client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
        except self._client_error as exc:
            if _is_precondition(exc):
                raise PreconditionFailed(f"s3://{bucket}/{key} already exists") from exc
            raise
        return normalize_etag(response["ETag"])

    def put_if_match(self, bucket: str, key: str, body: bytes, etag: str) -> str:
        expected = normalize_etag(etag)
        try:
            response = self._client.put_object(Bucket=bucket, Key=key, Body=body, IfMatch=f'"{expected}"')
        except self._client_error as exc:
            if _is_precondition(exc):
                raise PreconditionFailed(f"s3://{bucket}/{key} does not have ETag {expected}") from exc
            if _is_not_found(exc):  # S3 answers 404 NoSuchKey to If-Match on a missing key
                raise PreconditionFailed(f"s3://{bucket}/{key} does not exist (expected {expected})") from exc
            raise
        return normalize_etag(response["ETag"])

    def list_folders(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        found: builtins.list[str] = []
        pages = paginator.paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/", PaginationConfig={"PageSize": self._page_size}
        )
        for page in pages:
            found.extend(item["Prefix"] for item in page.get("CommonPrefixes", []))
        return sorted(found)

    def read_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            response = self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}")
        except self._client_error as exc:
            if _is_not_found(exc):
                raise NotFound(f"s3://{bucket}/{key} does not exist") from exc
            if _error_code(exc)[1] == 416:  # the range starts past the end
                return b""
            raise
        with contextlib.closing(response["Body"]) as stream:
            return stream.read()

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> str:
        try:
            response = self._client.copy_object(Bucket=to_bucket, Key=to_key, CopySource={"Bucket": bucket, "Key": key})
        except self._client_error as exc:
            if _is_not_found(exc):
                raise NotFound(f"s3://{bucket}/{key} does not exist") from exc
            raise
        return normalize_etag(response["CopyObjectResult"]["ETag"])

    def delete(self, bucket: str, key: str) -> None:
        self._client.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, bucket: str, prefix: str) -> None:
        keys = [info.key for info in self.list(bucket, prefix)]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = keys[start : start + 1000]
            response = self._client.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StoreError(
                    f"could not delete {len(errors)} object(s) under s3://{bucket}/{prefix}: "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )


# -- local -----------------------------------------------------------------------------------------------

_BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def md5_etag(body: bytes) -> str:
    """The ETag S3 gives a single-part upload: the MD5 hex digest of the body."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


class LocalStore:
    """`ObjectStore` on a folder: `<root>/<bucket>/<key>`, for unit tests and offline use.

    Buckets exist implicitly. Keys map to paths, so a key must be a relative path without empty, `.` or `..`
    segments (no leading or trailing `/`), and a key cannot be both an object and the prefix of another
    object (`a` and `a/b`): such keys raise `InvalidKey`. Every write holds an exclusive `flock` on
    `<root>/.store/lock` (which serialises threads and processes alike) and lands with an atomic `os.replace`,
    so readers never see a partial object and conditional writes are linearisable.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._meta = self.root / ".store"
        self._tmp = self._meta / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._lock_path = self._meta / "lock"
        self._lock_path.touch(exist_ok=True)

    # -- paths --

    def _bucket_dir(self, bucket: str) -> Path:
        if not _BUCKET_PATTERN.match(bucket) or ".." in bucket:
            raise InvalidKey(f"invalid bucket name {bucket!r}")
        return self.root / bucket

    def _path(self, bucket: str, key: str) -> Path:
        segments = key.split("/")
        if not key or "\0" in key or any(s in ("", ".", "..") for s in segments):
            raise InvalidKey(f"key {key!r} cannot be stored in a LocalStore")
        return self._bucket_dir(bucket).joinpath(*segments)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._lock_path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def _write(self, bucket: str, key: str, path: Path, body: bytes) -> str:
        """Write atomically (caller holds the lock)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise InvalidKey(f"{bucket}/{key}: a parent of this key is an object in a LocalStore") from exc
        if path.is_dir():
            raise InvalidKey(f"{bucket}/{key}: this key is a prefix of other objects in a LocalStore")
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return md5_etag(body)

    # -- ObjectStore --

    def get(self, bucket: str, key: str) -> StoredObject:
        body = self._read(self._path(bucket, key))
        if body is None:
            raise NotFound(f"{bucket}/{key} does not exist")
        return StoredObject(body=body, etag=md5_etag(body))

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        body = self._read(self._path(bucket, key))
        if body is None:
            return None
        return ObjectInfo(key=key, etag=md5_etag(body), size=len(body))

    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        base = self._bucket_dir(bucket)
        found: list[ObjectInfo] = []
        for directory, _dirs, files in os.walk(base):
            for name in files:
                path = Path(directory) / name
                key = path.relative_to(base).as_posix()
                if not key.startswith(prefix):
                    continue
                body = self._read(path)
                if body is not None:  # deleted while listing
                    found.append(ObjectInfo(key=key, etag=md5_etag(body), size=len(body)))
        return sorted(found, key=lambda info: info.key)

    def put(self, bucket: str, key: str, body: bytes) -> str:
        path = self._path(bucket, key)
        with self._locked():
            return self._write(bucket, key, path, body)

    def put_if_absent(self, bucket: str, key: str, body: bytes) -> str:
        path = self._path(bucket, key)
        with self._locked():
            if path.is_file():
                raise PreconditionFailed(f"{bucket}/{key} already exists")
            return self._write(bucket, key, path, body)

    def put_if_match(self, bucket: str, key: str, body: bytes, etag: str) -> str:
        path = self._path(bucket, key)
        expected = normalize_etag(etag)
        with self._locked():
            current = self._read(path)
            if current is None:
                raise PreconditionFailed(f"{bucket}/{key} does not exist (expected {expected})")
            if md5_etag(current) != expected:
                raise PreconditionFailed(f"{bucket}/{key} does not have ETag {expected}")
            return self._write(bucket, key, path, body)

    def list_folders(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        folders = {
            info.key[: info.key.index("/", len(prefix)) + 1]
            for info in self.list(bucket, prefix)
            if "/" in info.key[len(prefix) :]
        }
        return sorted(folders)

    def read_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
        path = self._path(bucket, key)
        try:
            with open(path, "rb") as handle:
                handle.seek(start)
                return handle.read(max(length, 0))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise NotFound(f"{bucket}/{key} does not exist") from exc

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> str:
        body = self._read(self._path(bucket, key))
        if body is None:
            raise NotFound(f"{bucket}/{key} does not exist")
        return self.put(to_bucket, to_key, body)

    def delete(self, bucket: str, key: str) -> None:
        path = self._path(bucket, key)
        with self._locked():
            self._unlink(self._bucket_dir(bucket), path)

    def delete_prefix(self, bucket: str, prefix: str) -> None:
        base = self._bucket_dir(bucket)
        with self._locked():
            for info in self.list(bucket, prefix):
                self._unlink(base, base.joinpath(*info.key.split("/")))

    @staticmethod
    def _unlink(base: Path, path: Path) -> None:
        """Remove one object's file and prune the folders left empty, up to the bucket folder (lock held)."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        parent = path.parent
        while parent != base:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
