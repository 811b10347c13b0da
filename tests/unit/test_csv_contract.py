"""The Pandas engine's Bronze on the shared CSV cases (`tests/csv_cases.py`): valid rows or a clear failure."""

from __future__ import annotations

import hashlib

import pytest

from jobs.pandas_engine.bronze import read_bronze
from tests.csv_cases import BAD_FILES, COLUMNS, EDGE_CASES
from twinlake.datasets import DATASETS, ROW_NUMBER, SOURCE_ETAG, SOURCE_KEY, DatasetName
from twinlake.inputs import BadInputFile, reads_line_by_line
from twinlake.manifest import InputObject

CLIENTS = DATASETS[DatasetName.CLIENTS]


def source(body: bytes, key: str = "clients/x.csv") -> InputObject:
    etag = hashlib.md5(body).hexdigest()
    return InputObject(key=key, etag=etag, size=len(body), dataset=DatasetName.CLIENTS)


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_an_edge_case_gives_its_rows_as_text_with_lineage(name: str) -> None:
    case = EDGE_CASES[name]
    frame = read_bronze(CLIENTS, source(case.body), case.body)
    assert [tuple(r) for r in frame[list(COLUMNS)].itertuples(index=False)] == list(case.rows)
    assert frame[ROW_NUMBER].tolist() == list(range(1, len(case.rows) + 1))
    assert set(frame[SOURCE_KEY]) == {"clients/x.csv"} and set(frame[SOURCE_ETAG]) == {source(case.body).etag}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_fails_with_its_reason(name: str) -> None:
    body, reason = BAD_FILES[name]
    with pytest.raises(BadInputFile, match=r"^clients/x\.csv: ") as failure:
        read_bronze(CLIENTS, source(body), body)
    assert reason in str(failure.value)


@pytest.mark.parametrize(
    ("body", "line_by_line"),
    [
        (b"a,b\n1,x\n", True),
        (b'a,b\n1,"x,y"\n2,"say ""hi"""\n3,""\n', True),
        (b'\xef\xbb\xbf"a",b\r\n1,"x"\r\n', True),
        (b'a,b\n1,"x\ny"\n', False),  # a value spans lines
        (b'a,b\n1,"x\ry"\n', False),  # a CR ends a line for a line reader too
        (b'a,b\n1,"q"x\n', False),  # text after a closing quote
        (b'a,b\n1,"x" \n', False),
        (b'a,b\n1,5 ft 3"\n', False),  # an odd quote in an unquoted value
        (b'a,b\n1,O"Brien,"x"\n', False),
        (b'a,b\n1,""x\n', False),  # an empty quoted value, then text
        (b'a,b\n1,"x"""y"\n', False),
    ],
)
def test_only_files_a_line_reader_reads_exactly_are_left_to_one(body: bytes, line_by_line: bool) -> None:
    assert reads_line_by_line(body) is line_by_line
