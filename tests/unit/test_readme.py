"""The documented rule table (docs/pipeline.md) is the published list of rule codes: it must match the declared rules
exactly. The README and the docs speak to users: every link resolves, and nothing speaks of how work was organised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twinlake.datasets import DatasetName
from twinlake.rules import RULES, RuleCode

REPO = Path(__file__).resolve().parents[2]
RULES_PAGE = REPO / "docs" / "pipeline.md"


def readme_rule_table() -> dict[str, set[str]]:
    rows = re.findall(r"^\| `([a-z_]+)` \| ([a-z, ]+) \|", RULES_PAGE.read_text(), flags=re.MULTILINE)
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


DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
        assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_pages_speak_to_users(page: Path) -> None:
    text = page.read_text().lower()
    for phrase in ("later issue", "the issue", "mirror used here", "this session"):
        assert phrase not in text, f"{page.name} says {phrase!r}"


def test_readme_names_the_ports_variables_and_commands() -> None:
    text = (REPO / "README.md").read_text()
    for name in ("TWINLAKE_KAFKA_PORT", "TWINLAKE_KAFKA_CONTROLLER_PORT", "TWINLAKE_S3_PORT", "TWINLAKE_STATE_DIR"):
        assert name in text
    for command in ("make demo", "make test", "twinlake runs", "twinlake show", "s3-data/"):
        assert command in text
