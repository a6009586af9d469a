"""Properties of decide(): the batch is a prefix; execute only inside an allowed window; deny wins."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.classify.model import Classification
from scheduler.natures import ALL_NATURES, Nature
from scheduler.plan import decide
from scheduler.policy.decision import Action, EnvState, ManualRequest, PendingMigration
from scheduler.policy.model import load_policy
from scheduler.policy.windows import evaluate_windows

POLICY = load_policy((Path(__file__).resolve().parents[3] / "examples" / "policy.yaml").read_text())
START = datetime.fromisoformat("2025-12-01T00:00:00+00:00")
DEPLOYED = START - timedelta(days=30)

natures = st.lists(st.sampled_from(ALL_NATURES), min_size=1, max_size=12)
instants = st.integers(min_value=0, max_value=60 * 24 * 70).map(lambda m: START + timedelta(minutes=m))


def make_state(kinds: list[Nature], manual: bool) -> EnvState:
    pending = tuple(
        PendingMigration(
            f"2025110100{i:04d}",
            Classification(
                path=f"x/{i}.rb", version=f"2025110100{i:04d}", name="m", primary_nature=n, natures=[n]
            ),
            "old",
            DEPLOYED,
        )
        for i, n in enumerate(kinds)
    )
    return EnvState("gstg", pending, manual_request=ManualRequest("U1") if manual else None)


@settings(max_examples=150, deadline=None)
@given(natures, instants, st.booleans())
def test_batch_is_always_a_prefix_of_pending(kinds: list[Nature], at: datetime, manual: bool) -> None:
    state = make_state(kinds, manual)
    d = decide(state, POLICY, at)
    assert d.migrations == [m.version for m in state.pending[: len(d.migrations)]]


@settings(max_examples=150, deadline=None)
@given(natures, instants, st.booleans())
def test_execute_only_inside_every_members_allowed_window(
    kinds: list[Nature], at: datetime, manual: bool
) -> None:
    d = decide(make_state(kinds, manual), POLICY, at)
    if d.action is Action.EXECUTE:
        for nature in kinds[: len(d.migrations)]:
            assert evaluate_windows(POLICY.allow_windows(nature), POLICY.deny_windows, at).open


@settings(max_examples=150, deadline=None)
@given(natures, instants, st.booleans())
def test_deny_window_always_wins(kinds: list[Nature], at: datetime, manual: bool) -> None:
    d = decide(make_state(kinds, manual), POLICY, at)
    if any(w.is_open(at) for w in POLICY.deny_windows):
        assert d.action is not Action.EXECUTE
