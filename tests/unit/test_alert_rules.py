"""The example alert rules parse and use only the metrics pdm-bot exports, with their labels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

RULES_FILE = Path(__file__).parents[2] / "examples" / "prometheus" / "alerts.yaml"

# Metric name -> label names (the contract with bot/metrics.py).
HISTOGRAM_LABELS = {"environment", "le"}
METRICS: dict[str, set[str]] = {
    "pdm_pending_migrations": {"environment", "nature", "database"},
    "pdm_oldest_pending_age_seconds": {"environment"},
    "pdm_runs_total": {"environment", "outcome"},
    "pdm_last_successful_run_timestamp_seconds": {"environment"},
    "pdm_decision": {"environment", "action"},
    "pdm_window_open": {"environment", "nature"},
    "pdm_guard_failures_total": {"environment", "guard"},
    "pdm_api_errors_total": {"api", "kind"},
    "pdm_run_duration_seconds_bucket": HISTOGRAM_LABELS,
    "pdm_run_duration_seconds_sum": HISTOGRAM_LABELS,
    "pdm_run_duration_seconds_count": HISTOGRAM_LABELS,
    "pdm_slack_outbox_pending": set(),
    "pdm_slack_outbox_oldest_seconds": set(),
    "pdm_slack_outbox_dead_letters_total": set(),
}
REQUIRED_ALERTS = {
    "PdmBacklogTooOld",
    "PdmRunFailed",
    "PdmNoSuccessfulRun",
    "PdmPendingGrowingOnAllDatabases",
    "PdmSlackOutboxStuck",
    "PdmSlackMessageDeadLettered",
}
SELECTOR = re.compile(r"\b(pdm_[a-z_]+)\s*(?:\{([^}]*)\})?")
MATCHER = re.compile(r"\s*([a-zA-Z_]+)\s*(?:=~|!~|!=|=)\s*\"[^\"]*\"\s*")
GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")


def expression_problems(expr: str) -> list[str]:
    """Unknown metrics, unknown label matchers and grouping labels no used metric has."""
    selectors = SELECTOR.findall(expr)
    if not selectors:
        return ["uses no pdm_ metric"]
    problems: list[str] = []
    used_labels: set[str] = set()
    for metric, matchers in selectors:
        if metric not in METRICS:
            problems.append(f"unknown metric {metric}")
            continue
        for part in filter(None, (m.strip() for m in matchers.split(","))):
            match = MATCHER.fullmatch(part)
            if match is None:
                problems.append(f"unreadable matcher {part!r}")
            elif match.group(1) not in METRICS[metric]:
                problems.append(f"{metric} has no label {match.group(1)}")
        used_labels |= METRICS[metric]
    for grouping in GROUPING.findall(expr):
        labels = {label.strip() for label in grouping.split(",") if label.strip()}
        problems += [f"groups by unknown label {label}" for label in sorted(labels - used_labels)]
    return problems


def load_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    assert document["kind"] == "PrometheusRule"
    return [rule for group in document["spec"]["groups"] for rule in group["rules"]]


RULES = load_rules()
IDS = [rule["alert"] for rule in RULES]


def test_the_required_alerts_are_present_once_each() -> None:
    names = [rule["alert"] for rule in RULES]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED_ALERTS


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_every_rule_has_a_severity_and_a_summary(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"info", "warning", "critical"}
    assert rule["annotations"]["summary"].strip()


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_expressions_use_only_exported_metrics_and_their_labels(rule: dict[str, Any]) -> None:
    assert expression_problems(rule["expr"]) == []


@pytest.mark.parametrize(
    "expr, problem",
    [
        ('increase(pdm_runs_total{outcom="failed"}[1h]) > 0', "pdm_runs_total has no label outcom"),
        ("pdm_pending_migration > 0", "unknown metric pdm_pending_migration"),
        ("sum by (database) (pdm_runs_total)", "groups by unknown label database"),
        ("up == 0", "uses no pdm_ metric"),
    ],
    ids=["label-typo", "metric-typo", "grouping-typo", "no-pdm-metric"],
)
def test_the_expression_check_catches_typos(expr: str, problem: str) -> None:
    assert problem in expression_problems(expr)
