"""The Helm chart's default policy is one the application accepts."""

from __future__ import annotations

from pathlib import Path

import yaml

from scheduler.policy.model import load_policy

VALUES = Path(__file__).parents[2] / "charts" / "pdm-bot" / "values.yaml"


def test_chart_default_policy_loads_with_the_application_validation() -> None:
    policy_block = yaml.safe_load(VALUES.read_text(encoding="utf-8"))["policy"]
    policy = load_policy(yaml.safe_dump(policy_block))
    assert [env.name for env in policy.environments] == ["gstg", "gprd"]
