"""docs/operations.md is the operator's list of what `/metrics` exports: every series of
`Metrics` is in its table, and its example alerts cover each incident class of
docs/incidents.md."""

from __future__ import annotations

import re
from pathlib import Path

from netra.health.metrics import Metrics

DOCS = Path(__file__).resolve().parents[2] / "docs"


def exported_series() -> set[str]:
    """Each family's name as a scrape shows it (counters end in `_total`)."""
    return {
        family.name + ("_total" if family.type == "counter" else "")
        for family in Metrics().registry.collect()
    }


def test_every_series_is_listed_in_operations_md() -> None:
    operations = (DOCS / "operations.md").read_text()
    listed = set(re.findall(r"^\| `(netra_[a-z_]+)` \|", operations, re.MULTILINE))
    assert exported_series() == listed


def test_each_incident_class_has_an_example_alert() -> None:
    incidents = re.findall(r"^## (I-\d+)\b", (DOCS / "incidents.md").read_text(), re.MULTILINE)
    operations = (DOCS / "operations.md").read_text()
    alerts = operations.split("Example alerts", 1)[1].split("```", 2)[1]
    covered = set(re.findall(r"^# (I-\d+) ", alerts, re.MULTILINE))
    assert incidents
    assert set(incidents) <= covered
