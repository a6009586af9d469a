"""pdm-bot plan on a real temporary git repository built by examples/make_sample_repo.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from bot.cli import cli

REPO = Path(__file__).resolve().parents[3]
ARGS = ["--from", "baseline", "--to", "main", "--policy", str(REPO / "examples" / "policy.yaml")]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("repo") / "sample"
    subprocess.run([sys.executable, str(REPO / "examples" / "make_sample_repo.py"), str(dest)], check=True)
    return dest


def test_plan_json_follows_the_contract(sample: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--repo",
            str(sample),
            *ARGS,
            "--environment",
            "gstg",
            "--at",
            "2026-01-09T15:00:00Z",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"environment", "at", "pending", "decision", "schedule"}
    assert len(data["pending"]) == 12
    assert all(p["path"].startswith("db/post_migrate/") for p in data["pending"])
    assert data["decision"]["action"] == "execute"
    assert data["decision"]["migrations"] == ["20260106090000"]
    assert data["schedule"][1]["at"] == "2026-01-10T00:00:00+00:00"


def test_plan_readable_output_for_production(sample: Path) -> None:
    result = CliRunner().invoke(
        cli, ["plan", "--repo", str(sample), *ARGS, "--environment", "gprd", "--at", "2026-01-09T15:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert "Decision: WAIT" in result.output and "soaks until" in result.output
    assert "Projected schedule" in result.output


@freeze_time("2026-01-10T03:00:00Z")
def test_plan_defaults_at_to_now(sample: Path) -> None:
    result = CliRunner().invoke(
        cli, ["plan", "--repo", str(sample), *ARGS, "--environment", "gstg", "--json"]
    )
    assert json.loads(result.stdout)["at"] == "2026-01-10T03:00:00+00:00"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--to", "nope"], "unknown revision 'nope'"),
        (["--environment", "gprd2"], "no environment 'gprd2'"),
        (["--at", "friday"], "not an ISO 8601 date-time"),
    ],
)
def test_plan_bad_input_is_one_line_exit_2(sample: Path, extra: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["plan", "--repo", str(sample), *ARGS, *extra])
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1


def four_saturdays_of_deploys(tmp_path: Path) -> Path:
    """gprd deployed at 06:10 on the four Saturdays before 2026-01-10, gstg at 04:10."""
    entries = [
        {"at": f"{day}T{hour:02d}:10:00Z", "environment": env}
        for day in ("2025-12-13", "2025-12-20", "2025-12-27", "2026-01-03")
        for env, hour in (("gstg", 4), ("gprd", 6))
    ]
    path = tmp_path / "deploys.json"
    path.write_text(json.dumps(entries))
    return path


def test_plan_with_recorded_deploys_says_which_deploy_is_expected_next_and_why(
    sample: Path, tmp_path: Path
) -> None:
    deploys = ["--deploys", str(four_saturdays_of_deploys(tmp_path)), "--environment", "gprd"]
    at = ["--at", "2026-01-09T15:00:00Z"]
    readable = CliRunner().invoke(cli, ["plan", "--repo", str(sample), *ARGS, *deploys, *at])
    assert readable.exit_code == 0, readable.output
    why = "deploys expected Sat 06:00–07:00 UTC: seen 3 of the last 3 weeks"
    assert f"Expected deploys: next at Sat 2026-01-10 06:00 UTC ({why})" in readable.output
    as_json = CliRunner().invoke(cli, ["plan", "--repo", str(sample), *ARGS, *deploys, *at, "--json"])
    assert json.loads(as_json.stdout)["expected_deploys"] == {
        "now": False,
        "at": "2026-01-10T06:00:00+00:00",
        "why": why,
    }
    without = CliRunner().invoke(cli, ["plan", "--repo", str(sample), *ARGS, "--environment", "gprd", *at])
    assert "Expected deploys: none (deploy_schedule not configured; deploy forecast: less than one" in (
        without.output
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"at": "2026-01-01T00:00:00", "environment": "gprd"}]', "--deploys: [0].at: needs a time zone"),
        ('[{"at": "2026-01-01T00:00:00Z", "environment": "prod"}]', "[0].environment: 'prod' is not an"),
        ('[{"at": "2026-01-01T00:00:00Z"}]', "--deploys: [0].environment: required"),
        ("[{", "--deploys: not JSON"),
    ],
)
def test_plan_bad_deploys_file_is_one_line_exit_2(
    sample: Path, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "deploys.json"
    path.write_text(content)
    result = CliRunner().invoke(cli, ["plan", "--repo", str(sample), *ARGS, "--deploys", str(path)])
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1
