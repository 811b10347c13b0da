"""A broken Silver promise fails Spark Gold with the Pandas engine's error: same type, same message (Spark's inner
join used to drop a purchase of an unknown client, and array_position gave an unknown product the id 0)."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.pandas_engine.gold import build_gold as pandas_gold
from jobs.spark_engine.gold import build_gold as spark_gold
from jobs.spark_engine.spark_schema import literal_frame, silver_schema
from tests.silver_frames import BROKEN_PROMISES, CLIENT_ROWS, clients, promotions, purchases, quality
from twinlake.datasets import DATASETS, DatasetName
from twinlake.gold import IntegrityCheck, SilverPromiseBroken

pytestmark = pytest.mark.spark


def _silver(spark: Any, name: DatasetName, rows: list[tuple[Any, ...]]) -> Any:
    lineage = [(*row, f"{name}.csv", "etag", i + 1) for i, row in enumerate(rows)]
    return literal_frame(spark, lineage, silver_schema(DATASETS[name]))


@pytest.mark.parametrize(
    ("purchase_rows", "check", "rows", "smallest"),
    [pytest.param(*case, id=name) for name, case in BROKEN_PROMISES.items()],
)
def test_spark_raises_the_pandas_error(
    spark: Any,
    purchase_rows: list[tuple[Any, ...]],
    check: IntegrityCheck,
    rows: int,
    smallest: int | str,
) -> None:
    with pytest.raises(SilverPromiseBroken) as from_pandas:
        pandas_gold(clients(CLIENT_ROWS), purchases(purchase_rows), promotions([]), quality())
    with pytest.raises(SilverPromiseBroken) as from_spark:
        spark_gold(
            spark,
            _silver(spark, DatasetName.CLIENTS, CLIENT_ROWS),
            _silver(spark, DatasetName.PURCHASES, purchase_rows),
            _silver(spark, DatasetName.PROMOTIONS, []),
            quality(),
        )
    assert type(from_spark.value) is type(from_pandas.value) is SilverPromiseBroken
    assert str(from_spark.value) == str(from_pandas.value) == str(SilverPromiseBroken(check, rows, smallest))
