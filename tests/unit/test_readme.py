"""The README's rule table is the published list of rule codes: it must match the declared rules exactly."""

from __future__ import annotations

import re
from pathlib import Path

from twinlake.datasets import DatasetName
from twinlake.rules import RULES, RuleCode

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_rule_table() -> dict[str, set[str]]:
    rows = re.findall(r"^\| `([a-z_]+)` \| ([a-z, ]+) \|", README.read_text(), flags=re.MULTILINE)
    table: dict[str, set[str]] = {}
    for code, datasets in rows:
        names = {d.strip() for d in datasets.split(",")}
        table[code] = {str(d) for d in DatasetName} if names == {"all"} else names
    return table


def test_readme_lists_every_rule_code_with_its_datasets() -> None:
    declared: dict[str, set[str]] = {}
    for dataset, rules in RULES.items():
        for rule in rules:
            declared.setdefault(str(rule.code), set()).add(str(dataset))
    assert readme_rule_table() == declared
    assert set(declared) == {str(c) for c in RuleCode}
