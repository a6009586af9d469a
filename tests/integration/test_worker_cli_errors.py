"""`pdm-bot worker` and `pdm-bot cron` without a reachable Redis or with a bad setting: one line on stderr,
exit 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import free_port


@pytest.mark.parametrize("command", [["worker", "--burst"], ["cron", "--once"]], ids=["worker", "cron"])
def test_an_unreachable_redis_is_a_one_line_error_with_exit_code_2(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDM_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("PDM_POLICY_FILE", "examples/policy.yaml")
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    assert result.stderr.startswith("pdm-bot: error: cannot reach Redis:")
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("PDM_GITLAB_TIMEOUT_SECONDS", "-1", "Input should be greater than 0"),
        ("PDM_GITLAB_CREATE_SETTLE_SECONDS", "soon", "Input should be a valid integer"),
    ],
)
def test_a_bad_setting_is_a_one_line_error_naming_it(
    variable: str, value: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pdm-bot: error: invalid setting {variable}: {reason}")
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1 and value not in result.stderr
