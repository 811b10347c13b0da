"""Value pools built once with Faker (a few thousand names and a few dozen email domains per run).

Rows are assembled from these pools with vectorised index arithmetic; Faker is never called per row. Pools are
deterministic for a given seed and Faker version.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker

from twinlake.datasets import COUNTRIES

# Faker locale for people of each country; countries added later fall back to DEFAULT_LOCALE.
_COUNTRY_LOCALES: dict[str, str] = {
    "France": "fr_FR",
    "Germany": "de_DE",
    "Spain": "es_ES",
    "Italy": "it_IT",
    "Belgium": "nl_BE",
    "Netherlands": "nl_NL",
    "Switzerland": "de_CH",
    "Portugal": "pt_PT",
}
DEFAULT_LOCALE = "en_US"
_GENERIC_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")
# Characters a name must not contain: CSV structure, quoting/escaping (Spark's default escape is '\\') and any
# whitespace other than a plain inner space (so a clean name never carries trim characters).
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
_BAD_NAME = re.compile(r'[,"\\\t\n\r\x0b\f]|^\s|\s$')


def ascii_slug(text: str) -> str:
    """'Grégoire' -> 'gregoire', "O'Neil-Smith" -> 'oneilsmith' (ASCII letters only)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


@dataclass(frozen=True)
class Pools:
    """Per-country name pools (same length for every country) and their ASCII slugs for email local parts."""

    first_names: tuple[tuple[str, ...], ...]  # [country index][i]
    last_names: tuple[tuple[str, ...], ...]
    first_slugs: tuple[tuple[str, ...], ...]
    last_slugs: tuple[tuple[str, ...], ...]
    email_domains: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.first_names[0])


def _draw(fake: Faker, method: str, size: int) -> tuple[str, ...]:
    values: list[str] = []
    attempts = 0
    while len(values) < size:
        attempts += 1
        value = str(getattr(fake, method)())
        if _BAD_NAME.search(value) or not ascii_slug(value):
            if attempts > size * 20:
                raise RuntimeError(f"Faker {method} keeps giving unusable values like {value!r}")
            continue
        values.append(value)
    return tuple(values)


@lru_cache(maxsize=4)
def build_pools(seed: int, size: int = 400) -> Pools:
    """Names for each country in `twinlake.datasets.COUNTRIES` order, and a shared list of email domains."""
    firsts, lasts, domains = [], [], list(_GENERIC_DOMAINS)
    for index, country in enumerate(COUNTRIES):
        fake = Faker(_COUNTRY_LOCALES.get(country, DEFAULT_LOCALE))
        fake.seed_instance(seed * 1_000 + index)
        firsts.append(_draw(fake, "first_name", size))
        lasts.append(_draw(fake, "last_name", size))
        domains.extend(str(fake.free_email_domain()) for _ in range(8))
    unique_domains = tuple(dict.fromkeys(d.lower() for d in domains if _DOMAIN.match(d.lower())))
    return Pools(
        first_names=tuple(firsts),
        last_names=tuple(lasts),
        first_slugs=tuple(tuple(ascii_slug(v) for v in pool) for pool in firsts),
        last_slugs=tuple(tuple(ascii_slug(v) for v in pool) for pool in lasts),
        email_domains=unique_domains,
    )
