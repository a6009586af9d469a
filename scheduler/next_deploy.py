"""What the deploy forecast (or `deploy_schedule`) expects next, and why: the line `pdm-bot plan`,
`/pdm status` and `/pdm plan` show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scheduler.plan import expected_deploys
from scheduler.policy.decision import EnvState
from scheduler.policy.model import Policy


@dataclass(frozen=True)
class NextDeploy:
    """A deploy expected now (until `at`) or next at `at`, and why; `at` None with `why` saying why
    nothing is expected."""

    now: bool
    at: datetime | None
    why: str
    aside: str = ""  # hours seen often enough that are not expected deploys, and why

    def line(self, when: Callable[[datetime], str]) -> str:
        """`Expected deploys: next at <when(at)> (deploys expected …)`."""
        why = f" ({self.why})" if self.why else ""
        aside = f"; {self.aside}" if self.aside else ""
        if self.now:
            until = f" until {when(self.at)}" if self.at else ""
            return f"Expected deploys: one is expected now{until}{why}{aside}"
        if self.at is None:
            return f"Expected deploys: none{why}{aside}"
        return f"Expected deploys: next at {when(self.at)}{why}{aside}"

    def to_dict(self) -> dict[str, Any]:
        """The `plan --json` `expected_deploys` object."""
        out = {"now": self.now, "at": self.at.isoformat() if self.at else None, "why": self.why}
        return out | ({"set_aside": self.aside} if self.aside else {})


def next_deploy(state: EnvState, policy: Policy, at: datetime) -> NextDeploy:
    """What the deploy forecast (or `deploy_schedule`) expects at or after `at`."""
    deploys = expected_deploys(state, policy, at)
    expected = deploys.expected
    if expected is None:
        return NextDeploy(False, None, deploys.note)
    aside = expected.set_aside()
    if expected.is_open(at):
        return NextDeploy(True, expected.closes_at(at), expected.why(at), aside)
    due = expected.next_open(at)
    if due is None:
        return NextDeploy(False, None, "nothing expected within eight days", aside)
    return NextDeploy(False, due, expected.why(due), aside)
