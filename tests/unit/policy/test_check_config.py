"""check-config and load_policy: every kind of error, with its key path and exact message."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from scheduler.policy.model import InvalidPolicy, load_policy

BASE = "environments: [{name: gstg}]\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            BASE + "windows: [{name: w, kind: allow, schedule: '0 25 * * *', duration: 5h}]",
            "windows[0].schedule: cannot parse cron '0 25 * * *'",
        ),
        (
            BASE + "windows: [{name: w, kind: allow, schedule: '0 1 * * *', duration: 5 hours}]",
            "windows[0].duration: cannot parse duration '5 hours' (use e.g. 30m, 5h, 14d)",
        ),
        (
            BASE + "windows: [{name: w, kind: alow, schedule: '0 1 * * *', duration: 5h}]",
            "windows[0].kind: must be 'allow' or 'deny' (got 'alow')",
        ),
        (
            BASE + "windows: [{name: w, kind: deny}]",
            "windows[0]: give either schedule and duration, or from and to",
        ),
        (
            BASE + "windows: [{name: w, kind: deny, from: 2026-12-20T00:00:00Z}]",
            "windows[0]: give either schedule and duration, or from and to",
        ),
        (
            BASE + "windows: [{name: w, kind: deny, from: 2026-12-20T00:00:00Z, to: 2026-12-01T00:00:00Z}]",
            "windows[0].to: must be after from",
        ),
        (
            BASE + "windows: [{name: w, kind: deny, from: 2026-12-20T00:00:00Z, to: 2026-12-20T00:00:00Z}]",
            "windows[0].to: must be after from",
        ),
        (
            BASE + "windows: [{name: a, kind: allow, schedule: '0 1 * * *', duration: 5h},\n"
            "  {name: b, kind: allow, schedule: '0 2 * * *', duration: 5h},\n"
            "  {name: c, kind: allow, schedule: '0 3 * * *', duration: 5h},\n"
            "  {name: d, kind: deny, from: 2026-12-20T01:00:00+01:00, to: 2026-12-20T00:00:00Z}]",
            "windows[3].to: must be after from",
        ),
        (
            BASE + "windows: [{name: w, kind: allow, schedule: '0 1 * * *', duration: 0}]",
            "windows[0].duration: must be positive",
        ),
        (
            BASE + "proposals: {post_within: 0m}",
            "proposals.post_within: must be positive, or null to post proposals as early as the lead time "
            "allows",
        ),
        (
            BASE + "natures: {ddl_cleanup: {windows: [weekendd]}}",
            "natures.ddl_cleanup.windows: unknown window 'weekendd'",
        ),
        (
            BASE + "natures: {ddl_clean: {windows: [always]}}",
            "natures.ddl_clean: unknown nature 'ddl_clean'; known: no_op, background_scheduling, "
            "index_and_constraint, "
            "data_migration, ddl_cleanup, unknown",
        ),
        (
            BASE + "natures: {no_op: {mode: aprove}}",
            "natures.no_op.mode: must be 'auto', 'approval' or 'manual' (got 'aprove')",
        ),
        (BASE + "colour: blue", "colour: unknown key"),
        (BASE + "timezone: Mars/Base", "timezone: unknown time zone 'Mars/Base'"),
        (
            "environments: [{name: gprd, requires: gstg}]",
            "environments[0].requires: unknown environment 'gstg'",
        ),
        ("windows: []", "environments: required"),
        (BASE + "guards: {max_db_load: {prometheus_url: http://p}}", "guards.max_db_load.query: required"),
        (
            BASE + "table_sizes: {ci_builds: huge}",
            "table_sizes.ci_builds: must be 'small', 'medium', 'large' or 'over_limit' (got 'huge')",
        ),
        ("", "policy: the file is empty"),
        (
            "a: [",
            "policy: line 1, column 5: not valid YAML (expected the node content, but found '<stream end>')",
        ),
    ],
)
def test_each_kind_of_error_is_reported_with_its_key_path(text: str, message: str) -> None:
    with pytest.raises(InvalidPolicy) as caught:
        load_policy(text)
    assert message in caught.value.errors


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        BASE + "colour: blue\nwindows: [{name: w, kind: allow, schedule: '0 25 * * *', duration: 5h}]\n"
        "natures: {ddl_cleanup: {windows: [weekendd]}}\n"
    )
    result = CliRunner().invoke(cli, ["check-config", "--policy", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}: windows[0].schedule: cannot parse cron '0 25 * * *'",
        f"{path}: colour: unknown key",
        f"{path}: natures.ddl_cleanup.windows: unknown window 'weekendd'",
        f"{path}: 3 error(s)",
    ]


def test_valid_example_policy_prints_a_summary() -> None:
    result = CliRunner().invoke(cli, ["check-config", "--policy", "examples/policy.yaml"])
    assert result.exit_code == 0
    assert "window weekday-offpeak [allow]: weekdays 01:00–06:00 UTC" in result.output


def test_missing_policy_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check-config", "--policy", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1


def test_a_key_given_twice_is_reported_with_its_path_instead_of_the_last_one_winning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        BASE + "timezone: UTC\n"
        "natures:\n"
        "  ddl_cleanup: {windows: [always], mode: auto}\n"
        "  ddl_cleanup: {windows: [always], mode: manual}\n"
        "windows:\n"
        "  - {name: w, kind: allow, schedule: '0 1 * * *', duration: 5h, duration: 6h}\n"
        "timezone: Europe/Paris\n"
    )
    result = CliRunner().invoke(cli, ["check-config", "--policy", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}: natures.ddl_cleanup: duplicate key (line 5)",
        f"{path}: windows[0].duration: duplicate key (line 7)",
        f"{path}: timezone: duplicate key (line 8)",
        f"{path}: 3 error(s)",
    ]


def test_the_same_key_in_different_mappings_and_anchors_pointing_back_are_accepted() -> None:
    policy = load_policy(
        "environments: [{name: gstg, variables: &v {A: '1'}}, {name: gprd, variables: *v}]\n"
        "natures: {ddl_cleanup: {mode: auto}, data_migration: {mode: auto}}\n"
    )
    assert [e.variables for e in policy.environments] == [{"A": "1"}, {"A": "1"}]
