"""`pdm-bot simulate` through click: JSON contract, table, plot, and bad scenarios (exit 2, key path)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli

REPO = Path(__file__).resolve().parents[3]
BUNDLED = REPO / "examples" / "scenarios" / "gitlab-month.json"
POLICY = REPO / "examples" / "policy.yaml"
METRIC_KEYS = {
    "runs",
    "heavy_peak_executions",
    "deploy_blocked_minutes",
    "rollback_unavailable_hours",
    "latency_hours",
    "human_actions",
    "pending_at_end",
}

GOOD: dict[str, Any] = {
    "start": "2026-01-05T00:00:00Z",
    "days": 2,
    "environments": ["gstg"],
    "traffic": {"hourly": [0.5] * 24},
    "deploys": [
        {
            "at": "2026-01-05T08:00:00Z",
            "environment": "gstg",
            "sha": "a1",
            "duration_minutes": 30,
            "migrations": [{"version": "1", "nature": "no_op", "duration_minutes": 1}],
        },
        {"at": "2026-01-05T10:00:00Z", "environment": "gstg", "sha": "a2", "duration_minutes": 30},
    ],
}


def run(tmp_path: Path, scenario: Any, *extra: str) -> Any:
    path = tmp_path / "scenario.json"
    path.write_text(scenario if isinstance(scenario, str) else json.dumps(scenario), encoding="utf-8")
    return CliRunner().invoke(cli, ["simulate", "--scenario", str(path), "--policy", str(POLICY), *extra])


def test_json_output_is_the_policy_and_both_baselines_with_every_metric(tmp_path: Path) -> None:
    result = run(tmp_path, GOOD, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"policy", "baselines"}
    assert set(data["baselines"]) == {"daily_manual", "after_each_deploy"}
    for metrics in [data["policy"], *data["baselines"].values()]:
        assert set(metrics) == METRIC_KEYS
        assert set(metrics["latency_hours"]["no_op"]) == {"p50", "p95"}


def test_the_table_aligns_one_column_per_strategy(tmp_path: Path) -> None:
    result = run(tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["metric", "policy", "daily_manual", "after_each_deploy"]
    assert len({len(line) for line in lines}) == 1
    assert any(line.startswith("deploy blocked (min)") for line in lines)


def test_plot_writes_a_png_timeline(tmp_path: Path) -> None:
    png = tmp_path / "timeline.png"
    result = run(tmp_path, GOOD, "--plot", str(png))
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _with(change: Any) -> dict[str, Any]:
    scenario = copy.deepcopy(GOOD)
    change(scenario)
    return scenario


BAD = [
    ("missing-key", _with(lambda s: s.pop("days")), "days: required"),
    ("missing-deploy-key", _with(lambda s: s["deploys"][0].pop("sha")), "deploys[0].sha: required"),
    ("unknown-key", _with(lambda s: s.update(colour="red")), "colour: unknown key"),
    (
        "unknown-nature",
        _with(lambda s: s["deploys"][0]["migrations"][0].update(nature="reindex")),
        "deploys[0].migrations[0].nature: unknown nature 'reindex'",
    ),
    (
        "unsorted",
        _with(lambda s: s["deploys"][1].update(at="2026-01-05T07:00:00Z")),
        "deploys[1].at: deploys of gstg must be sorted by time",
    ),
    (
        "overlapping",
        _with(lambda s: s["deploys"][1].update(at="2026-01-05T08:20:00Z")),
        "deploys[1].at: overlaps deploys[0] on gstg",
    ),
    ("bad-date", _with(lambda s: s.update(start="next monday")), "start: not an ISO 8601 date-time"),
    ("naive-date", _with(lambda s: s.update(start="2026-01-05T00:00:00")), "start: needs a time zone"),
    (
        "outside-period",
        _with(lambda s: s["deploys"][1].update(at="2026-02-05T08:00:00Z")),
        "deploys[1].at: 2026-02-05T08:00:00+00:00 is outside the simulated period",
    ),
    (
        "unknown-environment",
        _with(lambda s: s["deploys"][1].update(environment="gprd")),
        "deploys[1].environment: unknown environment 'gprd'",
    ),
    (
        "incident-order",
        _with(
            lambda s: s.update(incidents=[{"start": "2026-01-05T10:00:00Z", "end": "2026-01-05T09:00:00Z"}])
        ),
        "incidents[0]: end must be after start",
    ),
    ("traffic-length", _with(lambda s: s["traffic"].update(hourly=[0.5] * 23)), "traffic.hourly:"),
    ("deploys-shape", _with(lambda s: s.update(deploys="many")), "deploys: must be a list of deploys"),
    (
        "generate-nature",
        _with(lambda s: s.update(deploys={"generate": {"per_day": 2, "seed": 1, "mix": {"vacuum": 1}}})),
        "deploys.generate.mix.vacuum: unknown nature 'vacuum'",
    ),
    (
        "generate-missing",
        _with(lambda s: s.update(deploys={"generate": {"per_day": 2, "mix": {"no_op": 1}}})),
        "deploys.generate.seed: required",
    ),
    (
        "duplicate-version",
        _with(
            lambda s: s["deploys"][1].update(
                migrations=[{"version": "1", "nature": "no_op", "duration_minutes": 1}]
            )
        ),
        "deploys[1].migrations[0].version: 1 already came with deploys[0] on gstg",
    ),
    ("not-json", "{nope", "scenario: not valid JSON (line 1, column 2"),
    ("not-an-object", "[]", "scenario: must be an object"),
]


@pytest.mark.parametrize(("scenario", "expected"), [(s, e) for _, s, e in BAD], ids=[i for i, _, _ in BAD])
def test_a_bad_scenario_exits_2_with_the_key_path_on_one_line(
    tmp_path: Path, scenario: Any, expected: str
) -> None:
    result = run(tmp_path, scenario, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert expected in result.stderr


def test_a_policy_that_requires_an_environment_the_scenario_lacks_is_a_bad_scenario(tmp_path: Path) -> None:
    scenario = _with(lambda s: s.update(environments=["gprd"]))
    for d in scenario["deploys"]:
        d["environment"] = "gprd"
    result = run(tmp_path, scenario)
    assert result.exit_code == 2
    assert "environments: gprd requires gstg" in result.stderr


def test_a_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["simulate", "--scenario", str(tmp_path / "none.json"), "--policy", str(POLICY)]
    )
    assert result.exit_code == 2
    assert "none.json" in result.stderr
