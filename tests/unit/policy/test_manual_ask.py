"""When the worker asks for the `/pdm run` a manual migration waits for (`manual_ask_due`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from scheduler.classify.model import SizeClass
from scheduler.natures import Nature
from scheduler.plan import decide, manual_ask_due
from scheduler.policy.decision import Action, DeployedPackage, EnvState
from scheduler.policy.model import load_policy
from tests.support.planning import pending

REPO = Path(__file__).resolve().parents[3]
POLICY = load_policy((REPO / "examples" / "policy.yaml").read_text())  # unknown: weekend, manual
DEPLOYED = datetime.fromisoformat("2026-01-05T00:00:00+00:00")  # Monday
WEEKEND = datetime.fromisoformat("2026-01-10T00:00:00+00:00")


def unknown_head(env: str = "gstg", **kw: object) -> EnvState:
    items = (
        pending("20260105000001", Nature.UNKNOWN, DEPLOYED, "old"),
        pending("20260105000002", Nature.NO_OP, DEPLOYED, "old"),
    )
    return EnvState(env, items, packages=(DeployedPackage("new", DEPLOYED),), **kw)  # type: ignore[arg-type]


def due(state: EnvState, at: datetime) -> bool:
    decision = decide(state, POLICY, at)
    assert decision.action is Action.WAIT
    return manual_ask_due(POLICY, decision, at)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-01-06T10:00:00+00:00", False),  # Tuesday: the weekend is days away
        ("2026-01-09T08:00:00+00:00", False),  # Friday's working hours, before their last 3 h
        ("2026-01-09T14:59:00+00:00", False),
        ("2026-01-09T15:00:00+00:00", True),  # the last `post_within` (3 h) before they close at 18:00
        ("2026-01-09T17:59:00+00:00", True),
        ("2026-01-09T18:00:00+00:00", False),  # Friday evening: working hours closed, window not open
        ("2026-01-10T00:00:00+00:00", True),  # in the weekend window: it could run now
        ("2026-01-11T20:00:00+00:00", True),
        ("2026-01-11T23:59:00+00:00", False),  # too late to end before the window closes
        ("2026-01-12T00:00:00+00:00", False),  # Monday: the window closed
    ],
)
def test_a_manual_head_is_asked_for_when_it_could_run_or_as_a_proposal_ahead_would_be_posted(
    at: str, expected: bool
) -> None:
    assert due(unknown_head(), datetime.fromisoformat(at)) is expected


def test_the_ask_in_a_window_names_that_windows_close() -> None:
    decision = decide(unknown_head(), POLICY, WEEKEND + timedelta(hours=3))
    assert decision.next_window_at is None
    assert decision.window_closes_at == WEEKEND + timedelta(days=2)


def test_a_downstream_manual_head_waits_for_its_upstream_run_before_it_is_asked_for() -> None:
    # gprd requires gstg: the head has not run there, so nothing it could do with a `/pdm run` now
    state = unknown_head("gprd")
    assert not due(state, WEEKEND + timedelta(hours=3))
    ran = {"20260105000001": WEEKEND, "20260105000002": WEEKEND}
    assert due(unknown_head("gprd", upstream_successes=ran), WEEKEND + timedelta(hours=3))


def test_a_proposal_that_ends_before_the_window_does_names_the_manual_migration_pending_after_it() -> None:
    # Sunday 22:00: the small index fits before the weekend window closes, the 3-hour one does not; the
    # unknown one after it needs a `/pdm run`, which also answers the proposal
    small, huge = {"users": SizeClass.SMALL}, {"ci_builds": SizeClass.OVER_LIMIT}
    items = (
        pending("20260105000001", Nature.INDEX_AND_CONSTRAINT, DEPLOYED, "old", sizes=small),
        pending("20260105000002", Nature.INDEX_AND_CONSTRAINT, DEPLOYED, "old", sizes=huge),
        pending("20260105000003", Nature.UNKNOWN, DEPLOYED, "old"),
    )
    state = EnvState("gstg", items, packages=(DeployedPackage("new", DEPLOYED),))
    d = decide(state, POLICY, WEEKEND + timedelta(days=1, hours=22))
    assert d.action is Action.PROPOSE and d.migrations == ["20260105000001"]
    assert (
        "20260105000003 (unknown) is manual and pending after this batch: /pdm run gstg covers it and "
        "everything before it"
    ) in d.reasons
