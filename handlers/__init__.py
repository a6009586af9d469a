"""Thin listeners: `/pdm` subcommands, button actions and deploy events (webhook, Slack messages)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from bot.blocks import PROPOSAL_ACTIONS
from handlers import actions, commands, events
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    """Attach the Slack listeners to the Bolt app (the GitLab webhook is `handlers.webhooks.blueprint`)."""

    def pdm(body: dict[str, Any], ack: Any) -> None:
        commands.on_pdm(deps, body, ack)

    def proposal_button(body: dict[str, Any], ack: Any, respond: Any) -> None:
        actions.on_proposal_action(deps, body, ack, respond)

    def message(event: dict[str, Any]) -> None:
        events.on_message(deps, event)

    app.command("/pdm")(pdm)
    app.event("message")(message)
    app.action(re.compile("^(" + "|".join(PROPOSAL_ACTIONS) + ")$"))(proposal_button)
