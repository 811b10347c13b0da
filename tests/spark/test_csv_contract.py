"""The Spark engine's Bronze on the shared CSV cases (`tests/csv_cases.py`), held to the same rows and failures as
the Pandas engine; and, on random files, Spark's line-by-line reader held to the parser of record wherever the
engine lets it read."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import pytest

from jobs.spark_engine.bronze import LandingFile, read_bronze, read_bronze_files
from tests.csv_cases import BAD_FILES, COLUMNS, EDGE_CASES
from twinlake.datasets import DATASETS, ROW_NUMBER, SOURCE_ETAG, SOURCE_KEY, DatasetName
from twinlake.inputs import BadInputFile, read_csv_table, reads_line_by_line
from twinlake.manifest import InputObject

pytestmark = pytest.mark.spark
CLIENTS = DATASETS[DatasetName.CLIENTS]


def landing_file(folder: Path, name: str, body: bytes) -> LandingFile:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    key = f"clients/{name}"
    source = InputObject(key=key, etag=hashlib.md5(body).hexdigest(), size=len(body), dataset=DatasetName.CLIENTS)
    return LandingFile(source, body, f"file://{path.resolve()}")  # raw, as the engine gives it (not %-encoded)


def rows_by_key(frame: Any) -> dict[str, list[tuple[str, ...]]]:
    found: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for r in frame.collect():
        found.setdefault(r[SOURCE_KEY], []).append((r[ROW_NUMBER], tuple(r[c] for c in COLUMNS)))
    for key, numbered in found.items():
        assert sorted(n for n, _ in numbered) == list(range(1, len(numbered) + 1)), key
    return {key: [values for _, values in sorted(numbered)] for key, numbered in found.items()}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_an_edge_case_gives_the_contract_rows(spark: Any, tmp_path: Path, name: str) -> None:
    case = EDGE_CASES[name]
    file = landing_file(tmp_path, "edge.csv", case.body)
    frame = read_bronze(spark, CLIENTS, file.source, file.body, file.uri)
    assert rows_by_key(frame) == {file.source.key: list(case.rows)}
    assert {r[SOURCE_ETAG] for r in frame.select(SOURCE_ETAG).collect()} == {file.source.etag}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_fails_with_the_same_reason(spark: Any, tmp_path: Path, name: str) -> None:
    body, reason = BAD_FILES[name]
    file = landing_file(tmp_path, "bad.csv", body)
    with pytest.raises(BadInputFile, match=r"^clients/bad\.csv: ") as failure:
        read_bronze(spark, CLIENTS, file.source, file.body, file.uri).collect()
    assert reason in str(failure.value)


def test_many_files_are_read_together_with_their_own_lineage(spark: Any, tmp_path: Path) -> None:
    awkward = ["a b", "50%", "%41", "[x]", "{y}", "star*", "q?", "+plus", "ümlaut"]  # spaces, escapes, globs
    cases = {f"{awkward[i % len(awkward)]} {i:03d}.csv": case for i, case in enumerate(EDGE_CASES.values())}
    files = [landing_file(tmp_path, name, case.body) for name, case in cases.items()]
    files += [
        landing_file(
            tmp_path,
            f"small/{i}.csv",
            b"%s\n%d,N%d,a@b.co,2020-01-01,France\n" % (b",".join(c.encode() for c in COLUMNS), i, i),
        )
        for i in range(200)
    ]
    got = rows_by_key(read_bronze_files(spark, CLIENTS, files))
    expected = {f"clients/{name}": list(case.rows) for name, case in cases.items()}
    expected |= {f"clients/small/{i}.csv": [(str(i), f"N{i}", "a@b.co", "2020-01-01", "France")] for i in range(200)}
    assert got == expected


def test_a_bad_file_among_many_is_named(spark: Any, tmp_path: Path) -> None:
    good = EDGE_CASES["CRLF line ends"].body
    files = [landing_file(tmp_path, f"{i}.csv", good) for i in range(5)]
    files.insert(3, landing_file(tmp_path, "ragged.csv", BAD_FILES["ragged row"][0]))
    with pytest.raises(BadInputFile, match=r"^clients/ragged\.csv: malformed CSV"):
        read_bronze_files(spark, CLIENTS, files).collect()


def random_csv(rng: random.Random) -> bytes:
    """A clients file of random values drawn from what CSV writers and hands produce: quoted or not, with commas,
    doubled quotes, spaces and the odd stray quote or line break, LF or CRLF line ends."""
    plain = ["a", "b", " ", "x y", "Zoë", "=1", "'", "-", "\t"]
    rare = ['"', "\n", "\r\n", "\r", ","]
    end = rng.choice([b"\n", b"\r\n"])
    lines = [b",".join(c.encode() for c in COLUMNS)]
    for _ in range(rng.randint(1, 6)):
        fields = []
        for _ in COLUMNS:
            pieces = [rng.choice(rare if rng.random() < 0.04 else plain) for _ in range(rng.randint(0, 4))]
            value = "".join(pieces)
            if rng.random() < 0.4 or "," in value:
                junk = rng.choice([" ", "x"]) if rng.random() < 0.02 else ""  # text after the closing quote
                value = '"' + value.replace('"', '""') + '"' + junk
            fields.append(value.encode())
        lines.append(b",".join(fields) + (b"\n" if rng.random() < 0.05 else b""))
    return end.join(lines) + (end if rng.random() < 0.8 else b"")


def test_spark_reads_line_by_line_only_what_it_reads_like_the_parser_of_record(spark: Any, tmp_path: Path) -> None:
    rng = random.Random(20261126)
    files, expected = [], {}
    for i in range(600):
        body = random_csv(rng)
        try:
            table = read_csv_table("f.csv", CLIENTS, body)
        except BadInputFile:
            continue
        if not reads_line_by_line(body):
            continue  # the engine reads these with the parser of record itself
        file = landing_file(tmp_path, f"{i}.csv", body)
        files.append(file)
        expected[file.source.key] = [tuple(r.values()) for r in table.to_pylist()]
    assert len(files) > 100, "the generator gave too few files a line reader may read"
    got = rows_by_key(read_bronze_files(spark, CLIENTS, files))
    differ = {key: (got.get(key), rows) for key, rows in expected.items() if got.get(key) != rows}
    assert not differ, list(differ.items())[:3]
