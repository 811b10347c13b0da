"""Hand-made rule cases shared by both engines' tests: one bad (or tricky-but-valid) value per case.

Each case starts from a valid base row of its dataset, replaces one column's raw text, and states the exact rule
codes the row must fail (empty = clean). The reference date of every case is REFERENCE_DATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from twinlake.datasets import DatasetName

REFERENCE_DATE = date(2026, 11, 26)
C, P, M = DatasetName.CLIENTS, DatasetName.PURCHASES, DatasetName.PROMOTIONS

# Valid rows; purchases and promotions reference client 1 from the clients base row.
BASE_ROWS: dict[DatasetName, dict[str, str]] = {
    C: {
        "client_id": "1",
        "name": "Ann Lee",
        "email": "ann@example.com",
        "signup_date": "2020-05-01",
        "country": "France",
    },
    P: {
        "purchase_id": "10",
        "client_id": "1",
        "purchase_date": "2026-01-15",
        "amount": "19.99",
        "product": "Laptop",
    },
    M: {"promo_id": "100", "client_id": "1", "promo_name": "WELCOME10", "promo_value": "10"},
}


@dataclass(frozen=True)
class RuleCase:
    dataset: DatasetName
    column: str
    raw: str
    codes: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.dataset}.{self.column}={self.raw!r}"


def _cases(dataset: DatasetName, column: str, *pairs: tuple[str, tuple[str, ...]]) -> list[RuleCase]:
    return [RuleCase(dataset, column, raw, codes) for raw, codes in pairs]


OK: tuple[str, ...] = ()
RULE_CASES: list[RuleCase] = [
    *_cases(
        C,
        "client_id",
        ("", ("missing_client_id",)),
        (" \t ", ("missing_client_id",)),
        ("abc", ("invalid_client_id",)),
        ("0", ("invalid_client_id",)),
        ("-3", ("invalid_client_id",)),
        ("1.0", ("invalid_client_id",)),
        ("+1", ("invalid_client_id",)),
        ("0001", OK),
        (" 1 ", OK),
        ("1234567890123456789", ("invalid_client_id",)),
        ("1 2", ("invalid_client_id",)),
    ),
    *_cases(C, "name", ("", ("missing_name",)), ("\t\x0b", ("missing_name",)), ("  Ann  ", OK)),
    *_cases(
        C,
        "email",
        ("", ("missing_email",)),
        ("no-at.example.com", ("invalid_email",)),
        ("a@b", ("invalid_email",)),
        ("a b@c.de", ("invalid_email",)),
        ("a@@b.cd", ("invalid_email",)),
        ("a@b\tc.de", ("invalid_email",)),
        (" ANN@Example.COM ", OK),
        ("a.b+c@d.e.fr", OK),
    ),
    *_cases(
        C,
        "signup_date",
        ("", ("missing_signup_date",)),
        ("2020-02-30", ("invalid_signup_date",)),
        ("2023-02-29", ("invalid_signup_date",)),
        ("2024-02-29", OK),
        ("31/12/2020", ("invalid_signup_date",)),
        ("2020-1-5", ("invalid_signup_date",)),
        ("0999-01-01", ("invalid_signup_date",)),
        ("2020-13-01", ("invalid_signup_date",)),
        ("yesterday", ("invalid_signup_date",)),
        ("2026-11-26", OK),
        ("2026-11-27", ("future_signup_date",)),
        ("2999-12-31", ("future_signup_date",)),
        (" 2020-05-01\t", OK),
    ),
    *_cases(
        C,
        "country",
        ("", ("missing_country",)),
        ("Mars", ("unknown_country",)),
        (" fRANCE ", OK),
        ("FRANCE", OK),
        ("Fran ce", ("unknown_country",)),
        ("Fr\u0130nce", ("unknown_country",)),
    ),
    *_cases(P, "purchase_id", ("", ("missing_purchase_id",)), ("ten", ("invalid_purchase_id",)), ("010", OK)),
    *_cases(
        P,
        "client_id",
        ("", ("missing_client_id",)),
        ("x1", ("invalid_client_id",)),
        ("999", ("unknown_client",)),
        ("01", OK),
    ),
    *_cases(
        P,
        "purchase_date",
        ("", ("missing_purchase_date",)),
        ("2026-02-30", ("invalid_purchase_date",)),
        ("2027-01-01", ("future_purchase_date",)),
        ("2026-11-26", OK),
    ),
    *_cases(
        P,
        "amount",
        ("", ("missing_amount",)),
        ("abc", ("invalid_amount",)),
        ("1.234", ("invalid_amount",)),
        ("1e3", ("invalid_amount",)),
        ("12.", ("invalid_amount",)),
        (".5", ("invalid_amount",)),
        ("1,50", ("invalid_amount",)),
        ("0", ("amount_out_of_range",)),
        ("0.00", ("amount_out_of_range",)),
        ("-5", ("amount_out_of_range",)),
        ("5000.01", ("amount_out_of_range",)),
        ("99999999", ("amount_out_of_range",)),
        ("5000", OK),
        ("5000.00", OK),
        ("0.01", OK),
        (" 12.5 ", OK),
        ("007.10", OK),
    ),
    *_cases(
        P,
        "product",
        ("", ("missing_product",)),
        ("Toaster", ("unknown_product",)),
        ("LAPTOP", OK),
        (" smartWatch ", OK),
    ),
    *_cases(M, "promo_id", ("", ("missing_promo_id",)), ("p1", ("invalid_promo_id",))),
    *_cases(
        M,
        "client_id",
        ("999", ("unknown_client",)),
        ("", ("missing_client_id",)),
        ("x1", ("invalid_client_id",)),
        ("0", ("invalid_client_id",)),
        ("01", OK),
    ),
    *_cases(
        M,
        "promo_name",
        ("", ("missing_promo_name",)),
        ("BOGUS", ("unknown_promo_name",)),
        ("welcome10", OK),
        (" Vip25 ", OK),
    ),
    *_cases(
        M,
        "promo_value",
        ("", ("missing_promo_value",)),
        ("ten", ("invalid_promo_value",)),
        ("12.345", ("invalid_promo_value",)),
        ("0", ("promo_value_out_of_range",)),
        ("-1", ("promo_value_out_of_range",)),
        ("100.01", ("promo_value_out_of_range",)),
        ("100", OK),
        ("0.01", OK),
        ("99.99", OK),
    ),
]
