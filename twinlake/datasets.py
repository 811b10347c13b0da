"""Dataset schemas: which CSVs land, their columns, and how each column is normalised in Silver.

This module is the single place that names the datasets, their columns and their allowed values. The rules
(`twinlake.rules`), the generator (`producers`) and both engines read it; none of them spells a column list or an
allowed value of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

COUNTRIES: tuple[str, ...] = (
    "France",
    "Germany",
    "Spain",
    "Italy",
    "Belgium",
    "Netherlands",
    "Switzerland",
    "Portugal",
)
# The position in this tuple is the product's stable `product_id` in Gold (1-based): append, never reorder.
PRODUCTS: tuple[str, ...] = (
    "Laptop",
    "Smartphone",
    "Tablet",
    "Headphones",
    "Smartwatch",
    "Camera",
    "Printer",
    "Monitor",
)
PROMO_NAMES: tuple[str, ...] = (
    "WELCOME10",
    "SUMMER15",
    "BLACKFRIDAY20",
    "FREESHIP",
    "VIP25",
    "FLASH5",
    "STUDENT12",
)


class DatasetName(StrEnum):
    """The three datasets that land as CSV files."""

    CLIENTS = "clients"
    PURCHASES = "purchases"
    PROMOTIONS = "promotions"


class ColumnKind(StrEnum):
    """How a trimmed text value becomes a typed Silver value (identical in both engines)."""

    ID = "id"  # positive integer id -> int64
    TEXT = "text"  # trimmed text
    EMAIL = "email"  # trimmed, ASCII-lowercased text
    DATE = "date"  # ISO YYYY-MM-DD -> date
    MONEY = "money"  # decimal with at most 2 places -> decimal(12, 2)
    PERCENT = "percent"  # decimal with at most 2 places -> decimal(5, 2)
    ENUM = "enum"  # case-insensitive member of an allowed list -> its canonical spelling


@dataclass(frozen=True)
class Column:
    """One CSV column and the kind of value Silver makes of it."""

    name: str
    kind: ColumnKind
    allowed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.kind is ColumnKind.ENUM) != bool(self.allowed):
            raise ValueError(f"column {self.name}: an allowed list goes with, and only with, kind ENUM")


@dataclass(frozen=True)
class Dataset:
    """A landing dataset: its CSV header (in order) and the column whose value identifies a row."""

    name: DatasetName
    columns: tuple[Column, ...]
    id_column: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


CLIENTS = Dataset(
    name=DatasetName.CLIENTS,
    columns=(
        Column("client_id", ColumnKind.ID),
        Column("name", ColumnKind.TEXT),
        Column("email", ColumnKind.EMAIL),
        Column("signup_date", ColumnKind.DATE),
        Column("country", ColumnKind.ENUM, COUNTRIES),
    ),
    id_column="client_id",
)
PURCHASES = Dataset(
    name=DatasetName.PURCHASES,
    columns=(
        Column("purchase_id", ColumnKind.ID),
        Column("client_id", ColumnKind.ID),
        Column("purchase_date", ColumnKind.DATE),
        Column("amount", ColumnKind.MONEY),
        Column("product", ColumnKind.ENUM, PRODUCTS),
    ),
    id_column="purchase_id",
)
PROMOTIONS = Dataset(
    name=DatasetName.PROMOTIONS,
    columns=(
        Column("promo_id", ColumnKind.ID),
        Column("client_id", ColumnKind.ID),
        Column("promo_name", ColumnKind.ENUM, PROMO_NAMES),
        Column("promo_value", ColumnKind.PERCENT),
    ),
    id_column="promo_id",
)

# Processing order matters: purchases and promotions check their client_id against the clean clients.
DATASETS: dict[DatasetName, Dataset] = {d.name: d for d in (CLIENTS, PURCHASES, PROMOTIONS)}

# Lineage columns carried from Bronze to Silver (clean and rejected); prefixed so they never clash with data.
SOURCE_KEY = "_source_key"
SOURCE_ETAG = "_source_etag"
ROW_NUMBER = "_row_number"  # 1-based data row number within the source object (the header is row 0)
LINEAGE_COLUMNS: tuple[str, ...] = (SOURCE_KEY, SOURCE_ETAG, ROW_NUMBER)
# Rejected Silver rows carry the codes of every rule they fail, in rule declaration order.
REASONS = "_reasons"

# Money is exact: Silver and Gold store decimals with these precisions (engines compute in integer cents).
MONEY_PRECISION, MONEY_SCALE = 12, 2
PERCENT_PRECISION, PERCENT_SCALE = 5, 2
TOTAL_PRECISION = 18  # sums and averages in Gold
