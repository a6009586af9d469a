"""The shipped Slack app manifest asks for exactly the scopes the bot uses and points at /slack/events."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[3] / "bot" / "slack-manifest.yml").read_text())


def test_the_manifest_requests_exactly_the_bot_scopes_needed() -> None:
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == ["chat:write", "commands", "usergroups:read"]


def test_the_pdm_command_and_interactivity_post_to_slack_events() -> None:
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/pdm"
    assert command["url"].endswith("/slack/events")
    assert MANIFEST["settings"]["interactivity"]["request_url"].endswith("/slack/events")
