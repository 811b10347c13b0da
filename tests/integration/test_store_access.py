"""Least privilege on the local store: each role's keys do what its grant says and get AccessDenied elsewhere.

`make stack-up` creates one account per role and the bucket policies compiled from `twinlake.access`. The
expectations below are written out from the roles' definitions (not computed from `twinlake.access`), and every
operation is tried for real: read (GetObject), list (ListObjectsV2 on the object's folder), write (PutObject)
and delete (DeleteObject), in each bucket, plus the two places some roles are granted only in part: Silver's
rejected tables and `gold/benchmarks/`. Objects are set up and removed with the root keys; keys end in `.txt`
under test folders, which map to no dataset, so running engines ignore them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from twinlake.access import DATA_ROLES
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration
RUN = uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Place:
    """An object of the lake: the bucket field of `Settings` and a key of that kind."""

    name: str
    bucket_field: str
    key: str

    def bucket(self, settings: Settings) -> str:
        return str(getattr(settings, self.bucket_field))

    @property
    def folder(self) -> str:
        return self.key.rsplit("/", 1)[0] + "/"


PLACES = {
    p.name: p
    for p in (
        Place("landing", "landing_bucket", f"_access-test/{RUN}/a.txt"),
        Place("bronze", "bronze_bucket", f"_access-test/{RUN}/a.txt"),
        Place("silver", "silver_bucket", f"_access-test/{RUN}/clients/a.txt"),
        Place("silver rejected", "silver_bucket", f"_access-test/{RUN}/clients_rejected/a.txt"),
        Place("gold", "gold_bucket", f"_access-test/{RUN}/a.txt"),
        Place("gold benchmarks", "gold_bucket", f"benchmarks/_access-test-{RUN}/landing-before/a.txt"),
    )
}
# What each role may do where (r: read, l: list, w: write and delete); everything else must be AccessDenied.
ALLOWED: dict[StoreRole, dict[str, str]] = {
    StoreRole.UPLOADER: {"landing": "rlw"},
    StoreRole.ENGINES: {
        "landing": "rl",
        "bronze": "rlw",
        "silver": "rlw",
        "silver rejected": "rlw",
        "gold": "rlw",
        "gold benchmarks": "rlw",
    },
    StoreRole.DASHBOARD: {"silver rejected": "rl", "gold": "rl", "gold benchmarks": "rl"},
    StoreRole.BENCHMARK: {"landing": "rlw", "gold": "rl", "gold benchmarks": "rlw"},
}


@pytest.fixture(scope="module")
def root(admin_settings: Settings) -> Iterator[S3Client]:
    """The root's client; it puts one object in every place first and removes what is left afterwards."""
    client = s3_client(admin_settings)
    for place in PLACES.values():
        client.put_object(Bucket=place.bucket(admin_settings), Key=place.key, Body=b"fixture")
    yield client
    for place in PLACES.values():
        bucket = place.bucket(admin_settings)
        for item in client.list_objects_v2(Bucket=bucket, Prefix=place.folder).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])


def _outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except ClientError as exc:
        return str(exc.response.get("Error", {}).get("Code"))
    return "allowed"


def test_every_data_role_has_an_expectation() -> None:
    assert set(ALLOWED) == set(DATA_ROLES)


@pytest.mark.parametrize("place", list(PLACES), ids=lambda p: p.replace(" ", "-"))
@pytest.mark.parametrize("role", DATA_ROLES, ids=str)
def test_role_is_allowed_its_grant_and_denied_elsewhere(
    role: StoreRole, place: str, root: S3Client, settings_as: Callable[[StoreRole], Settings]
) -> None:
    settings = settings_as(role)
    client, where = s3_client(settings), PLACES[place]
    bucket, scratch = where.bucket(settings), where.folder + f"{role}-{uuid.uuid4().hex[:6]}.txt"
    allowed = ALLOWED[role].get(place, "")
    tried = {
        "read": _outcome(lambda: client.get_object(Bucket=bucket, Key=where.key)["Body"].read()),
        "list": _outcome(lambda: client.list_objects_v2(Bucket=bucket, Prefix=where.folder)),
        "write": _outcome(lambda: client.put_object(Bucket=bucket, Key=scratch, Body=b"by " + role.encode())),
        "delete": _outcome(lambda: client.delete_object(Bucket=bucket, Key=scratch)),
    }
    expected = {
        op: "allowed" if letter in allowed else "AccessDenied"
        for op, letter in (("read", "r"), ("list", "l"), ("write", "w"), ("delete", "w"))
    }
    assert tried == expected


@pytest.mark.parametrize("role", DATA_ROLES, ids=str)
def test_no_role_creates_buckets_or_changes_a_bucket_policy(
    role: StoreRole, root: S3Client, settings_as: Callable[[StoreRole], Settings]
) -> None:
    settings = settings_as(role)
    client = s3_client(settings)
    name = f"twinlake-access-{uuid.uuid4().hex[:8]}"
    assert _outcome(lambda: client.create_bucket(Bucket=name)) == "AccessDenied"
    for bucket in settings.buckets:
        assert _outcome(lambda b=bucket: client.put_bucket_policy(Bucket=b, Policy="{}")) == "AccessDenied"  # type: ignore[misc]
        assert _outcome(lambda b=bucket: client.delete_bucket_policy(Bucket=b)) == "AccessDenied"  # type: ignore[misc]


def test_benchmark_copies_landing_into_gold_benchmarks_and_back_but_nowhere_else(
    root: S3Client, settings_as: Callable[[StoreRole], Settings]
) -> None:
    settings = settings_as(StoreRole.BENCHMARK)
    client = s3_client(settings)
    landing, gold = PLACES["landing"], PLACES["gold benchmarks"]
    source = {"Bucket": landing.bucket(settings), "Key": landing.key}
    saved = f"{gold.folder}copy.txt"
    client.copy_object(CopySource=source, Bucket=settings.gold_bucket, Key=saved)  # server-side, out of landing
    restored = f"{landing.folder}restored.txt"
    client.copy_object(CopySource={"Bucket": settings.gold_bucket, "Key": saved}, Bucket=source["Bucket"], Key=restored)
    assert client.get_object(Bucket=source["Bucket"], Key=restored)["Body"].read() == b"fixture"
    elsewhere = f"{PLACES['gold'].folder}copy.txt"
    copy = lambda: client.copy_object(CopySource=source, Bucket=settings.gold_bucket, Key=elsewhere)  # noqa: E731
    assert _outcome(copy) == "AccessDenied"
