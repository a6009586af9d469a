"""Every guard called directly: pass and fail rows, reasons, unconfigured sources, edges and DST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from scheduler.policy import guards as g
from scheduler.policy.forecast import ScheduledDeploys
from scheduler.policy.model import load_policy


def t(text: str) -> datetime:
    """An aware instant from ISO text (`Z` = UTC)."""
    return datetime.fromisoformat(text)


def deploys(schedule: str, zone: str = "UTC", duration: str = "60m") -> ScheduledDeploys:
    """The `deploy_schedule` expected deploys exactly as the policy loader builds them."""
    policy = load_policy(
        f"timezone: {zone}\nenvironments: [{{name: gprd}}]\n"
        f"guards: {{deploy_schedule: '{schedule}', deploy_duration: {duration}}}\n"
    )
    window = policy.deploy_window
    assert window is not None
    return ScheduledDeploys(window)


NOON = t("2026-01-08T12:00:00Z")
MIN = timedelta(minutes=1)
HOURLY = deploys("0 * * * *", duration="10m")
AMS_MORNING = deploys("0 9 * * *", "Europe/Amsterdam")
AMS_GAP = deploys("30 2 * * *", "Europe/Amsterdam")


def _row(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    *,
    configured: bool = True,
    allowed: int | None = None,
    ready_at: datetime | None = None,
    id: str,
) -> object:
    return pytest.param(call, ok, reason, configured, allowed, ready_at, id=id)


def _check(
    result: g.GuardResult,
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    assert (result.ok, result.configured, result.allowed, result.ready_at) == (
        ok,
        configured,
        allowed,
        ready_at,
    )
    assert result.reason == reason


COLUMNS = ("call", "ok", "reason", "configured", "allowed", "ready_at")


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(lambda: g.paused(False), True, "not paused", id="paused: not paused passes"),
        _row(
            lambda: g.paused(True, "db maintenance"),
            False,
            "paused: db maintenance",
            id="paused: paused with a reason fails and names it",
        ),
        _row(lambda: g.paused(True), False, "paused (no reason given)", id="paused: paused without a reason"),
        _row(lambda: g.locked(None), True, "environment not locked", id="lock: no holder passes"),
        _row(lambda: g.locked(""), True, "environment not locked", id="lock: empty holder passes"),
        _row(
            lambda: g.locked("pdm-run-42"),
            False,
            "environment locked by pdm-run-42",
            id="lock: a holder fails and is named",
        ),
        _row(lambda: g.deploy_running(False), True, "no deploy running", id="deploy_running: none passes"),
        _row(
            lambda: g.deploy_running(True, t("2026-01-08T11:40:00Z")),
            False,
            "a deploy is running since Thu 2026-01-08 11:40 UTC",
            id="deploy_running: running fails with its start",
        ),
        _row(
            lambda: g.deploy_running(True),
            False,
            "a deploy is running",
            id="deploy_running: running with no known start",
        ),
    ],
)
def test_environment_guards_stop_every_run_while_their_condition_holds(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(
            lambda: g.db_load(None, None),
            True,
            "max_db_load not configured",
            configured=False,
            id="db_load: unconfigured passes",
        ),
        _row(
            lambda: g.db_load(0.95, None),
            True,
            "max_db_load not configured",
            configured=False,
            id="db_load: a reading without a threshold is ignored",
        ),
        _row(
            lambda: g.db_load(None, 0.7),
            False,
            "DB load unknown: no reading taken",
            id="db_load: configured but no reading fails",
        ),
        _row(
            lambda: g.db_load(None, 0.7, "Prometheus unreachable (timeout after 5s) at http://prom:9090"),
            False,
            "DB load unknown: Prometheus unreachable (timeout after 5s) at http://prom:9090",
            id="db_load: a failed reading fails and says why",
        ),
        _row(
            lambda: g.db_load(0.5, 0.7),
            True,
            "DB load 0.50 <= 0.70 (max_db_load threshold)",
            id="db_load: below the threshold passes",
        ),
        _row(
            lambda: g.db_load(0.7, 0.7),
            True,
            "DB load 0.70 <= 0.70 (max_db_load threshold)",
            id="db_load: exactly at the threshold passes",
        ),
        _row(
            lambda: g.db_load(0.71, 0.7),
            False,
            "DB load 0.71 > 0.70 (max_db_load threshold)",
            id="db_load: above the threshold fails",
        ),
        _row(
            lambda: g.db_load(0.004, 0.001),
            False,
            "DB load 0.004 > 0.001 (max_db_load threshold)",
            id="db_load: tiny values keep their significant digits",
        ),
        _row(
            lambda: g.incidents(None),
            True,
            "incidents not configured",
            configured=False,
            id="incidents: unconfigured passes",
        ),
        _row(lambda: g.incidents(0), True, "no open incident", id="incidents: none open passes"),
        _row(lambda: g.incidents(2), False, "2 incident(s) open", id="incidents: open ones fail"),
    ],
)
def test_data_source_guards_pass_when_not_configured_and_defer_on_bad_readings(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


V = ["20260101000001", "20260101000002", "20260101000003"]


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(
            lambda: g.holds(V, {}),
            True,
            "no migration on hold",
            configured=False,
            allowed=3,
            id="holds: none is unconfigured and lets all run",
        ),
        _row(
            lambda: g.holds(V, {"20250101000000": "old"}),
            True,
            "no migration on hold",
            allowed=3,
            id="holds: a hold on a version not pending lets all run",
        ),
        _row(
            lambda: g.holds(V, {V[2]: "needs a vacuum first"}),
            True,
            f"{V[2]} is on hold: needs a vacuum first; only the 2 before it may run",
            allowed=2,
            id="holds: a held third migration stops the prefix before it",
        ),
        _row(
            lambda: g.holds(V, {V[1]: "", V[2]: "later"}),
            True,
            f"{V[1]} is on hold; only the 1 before it may run",
            allowed=1,
            id="holds: the first held version cuts, whatever follows",
        ),
        _row(
            lambda: g.holds(V, {V[0]: "broken"}),
            False,
            f"{V[0]} is on hold: broken; only the 0 before it may run",
            allowed=0,
            id="holds: a held head blocks everything",
        ),
    ],
)
def test_holds_cut_the_prefix_just_before_the_held_version(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


TWO_H = timedelta(hours=2)


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(
            lambda: g.bake([NOON], timedelta(0), NOON),
            True,
            "min_bake is 0",
            configured=False,
            allowed=1,
            id="bake: min_bake 0 is unconfigured",
        ),
        _row(
            lambda: g.bake([NOON - TWO_H], TWO_H, NOON),
            True,
            "every package baked at least 2h",
            allowed=1,
            id="bake: live exactly min_bake passes (boundary)",
        ),
        _row(
            lambda: g.bake([NOON - TWO_H + MIN], TWO_H, NOON),
            False,
            "migration 1's package has not baked 2h yet (ready Thu 2026-01-08 12:01 UTC)",
            allowed=0,
            ready_at=NOON + MIN,
            id="bake: one minute short of min_bake fails with the ready time",
        ),
        _row(
            lambda: g.bake([NOON - 2 * TWO_H, NOON - timedelta(minutes=30)], TWO_H, NOON),
            True,
            "migration 2's package has not baked 2h yet (ready Thu 2026-01-08 13:30 UTC)",
            allowed=1,
            ready_at=t("2026-01-08T13:30:00Z"),
            id="bake: an unbaked second package stops the prefix after the first",
        ),
        _row(
            lambda: g.bake([None], TWO_H, NOON),
            False,
            "migration 1's package has no recorded deploy time",
            allowed=0,
            id="bake: an unknown deploy time never becomes ready by time alone",
        ),
    ],
)
def test_bake_lets_only_packages_live_for_min_bake_run(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(
            lambda: g.chain(V, None, TWO_H, {}, NOON),
            True,
            "no upstream environment",
            configured=False,
            allowed=3,
            id="chain: no requires is unconfigured",
        ),
        _row(
            lambda: g.chain(V[:1], "gstg", TWO_H, {V[0]: NOON - TWO_H}, NOON),
            True,
            "every pending migration soaked 2h on gstg",
            allowed=1,
            id="chain: soaked exactly min_soak passes (boundary)",
        ),
        _row(
            lambda: g.chain(V[:1], "gstg", TWO_H, {V[0]: NOON - TWO_H + MIN}, NOON),
            False,
            f"{V[0]} ran on gstg at Thu 2026-01-08 10:01 UTC; soaks until Thu 2026-01-08 12:01 UTC",
            allowed=0,
            ready_at=NOON + MIN,
            id="chain: one minute short of min_soak fails with the soak end",
        ),
        _row(
            lambda: g.chain(V, "gstg", TWO_H, {V[0]: NOON - TWO_H, V[2]: NOON - TWO_H}, NOON),
            True,
            f"{V[1]} has not run on gstg yet",
            allowed=1,
            id="chain: a version missing upstream stops the prefix before it",
        ),
        _row(
            lambda: g.chain(V, "gstg", timedelta(0), {}, NOON),
            False,
            f"{V[0]} has not run on gstg yet",
            allowed=0,
            id="chain: nothing run upstream blocks the head, even with no soak",
        ),
        _row(
            lambda: g.chain(V[:1], "gstg", TWO_H, {V[0]: NOON + MIN}, NOON),
            False,
            f"{V[0]} is projected to finish on gstg at Thu 2026-01-08 12:01 UTC; "
            "soaks until Thu 2026-01-08 14:01 UTC",
            allowed=0,
            ready_at=NOON + TWO_H + MIN,
            id="chain: a projected upstream finish is worded as projected",
        ),
    ],
)
def test_chain_lets_only_migrations_soaked_upstream_run(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


CURRENT = "cafebabe1234567890"
KEEP = "it runs after the next deploy so a rollback to the previous package stays possible"


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(
            lambda: g.preserve_rollback(False, [CURRENT], CURRENT),
            True,
            "preserve_rollback is off",
            configured=False,
            allowed=1,
            id="preserve_rollback: off is unconfigured",
        ),
        _row(
            lambda: g.preserve_rollback(True, ["old1", "old2"], CURRENT),
            True,
            "every pending migration came with an older package",
            allowed=2,
            id="preserve_rollback: older packages all run",
        ),
        _row(
            lambda: g.preserve_rollback(True, ["old1", CURRENT], CURRENT),
            True,
            f"migration 2 came with the package deployed now (cafebabe123); {KEEP}",
            allowed=1,
            id="preserve_rollback: the current package's migration is cut",
        ),
        _row(
            lambda: g.preserve_rollback(True, [CURRENT], CURRENT),
            False,
            f"migration 1 came with the package deployed now (cafebabe123); {KEEP}",
            allowed=0,
            id="preserve_rollback: a head from the current package blocks",
        ),
        _row(
            lambda: g.preserve_rollback(True, [None], None),
            False,
            f"migration 1 came with the package deployed now (?); {KEEP}",
            allowed=0,
            id="preserve_rollback: an unknown package is treated as current",
        ),
    ],
)
def test_preserve_rollback_keeps_the_current_packages_migrations_back(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


HALF_H = timedelta(minutes=30)


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(
            lambda: g.deploy_due(None, NOON, HALF_H),
            True,
            "deploy_schedule not configured",
            configured=False,
            id="deploy_due: deploy_schedule null is unconfigured",
        ),
        _row(
            lambda: g.deploy_due(HOURLY, t("2026-01-08T12:40:00Z"), HALF_H),
            False,
            "a deploy is due at Thu 2026-01-08 13:00 UTC, before the run would end "
            "(estimate 30m, ends Thu 2026-01-08 13:10 UTC)",
            ready_at=t("2026-01-08T13:10:00Z"),
            id="deploy_due: due in 20 min vs a 30 min estimate fails",
        ),
        _row(
            lambda: g.deploy_due(deploys("0 */2 * * *"), t("2026-01-08T13:20:00Z"), HALF_H),
            True,
            "no deploy expected before the run would end",
            id="deploy_due: due in 40 min vs a 30 min estimate passes",
        ),
        _row(
            lambda: g.deploy_due(deploys("0 */2 * * *"), t("2026-01-08T13:30:00Z"), HALF_H),
            True,
            "no deploy expected before the run would end",
            id="deploy_due: a run ending exactly when the deploy is due passes",
        ),
        _row(
            lambda: g.deploy_due(HOURLY, t("2026-01-08T12:05:00Z"), HALF_H),
            False,
            "an expected deploy holds the environment until Thu 2026-01-08 12:10 UTC",
            ready_at=t("2026-01-08T12:10:00Z"),
            id="deploy_due: an expected deploy holding the environment fails",
        ),
        _row(
            lambda: g.deploy_due(AMS_MORNING, t("2026-03-28T06:45:00Z"), HALF_H),
            True,
            "no deploy expected before the run would end",
            id="deploy_due DST: Saturday before spring-forward, 09:00 CET is 08:00 UTC",
        ),
        _row(
            lambda: g.deploy_due(AMS_MORNING, t("2026-03-29T06:45:00Z"), HALF_H),
            False,
            "a deploy is due at Sun 2026-03-29 09:00 CEST, before the run would end "
            "(estimate 30m, ends Sun 2026-03-29 09:15 CEST)",
            ready_at=t("2026-03-29T08:00:00Z"),
            id="deploy_due DST: Sunday after spring-forward, 09:00 CEST is 07:00 UTC",
        ),
        _row(
            lambda: g.deploy_due(AMS_GAP, t("2026-03-29T01:00:00Z"), timedelta(hours=1)),
            False,
            "a deploy is due at Sun 2026-03-29 03:30 CEST, before the run would end "
            "(estimate 1h, ends Sun 2026-03-29 04:00 CEST)",
            ready_at=t("2026-03-29T02:30:00Z"),
            id="deploy_due DST: a fire in the spring-forward gap happens as if unshifted",
        ),
        _row(
            lambda: g.deploy_due(AMS_MORNING, t("2026-10-24T07:15:00Z"), HALF_H),
            False,
            "an expected deploy holds the environment until Sat 2026-10-24 10:00 CEST",
            ready_at=t("2026-10-24T08:00:00Z"),
            id="deploy_due DST: Saturday before fall-back, 09:00 CEST is 07:00 UTC",
        ),
        _row(
            lambda: g.deploy_due(AMS_MORNING, t("2026-10-25T07:15:00Z"), HALF_H),
            True,
            "no deploy expected before the run would end",
            id="deploy_due DST: Sunday after fall-back, 09:00 CET is 08:00 UTC",
        ),
        _row(
            lambda: g.deploy_due(AMS_GAP, t("2026-10-25T01:00:00Z"), HALF_H),
            False,
            "an expected deploy holds the environment until Sun 2026-10-25 02:30 CET",
            ready_at=t("2026-10-25T01:30:00Z"),
            id="deploy_due DST: an ambiguous fall-back time fires at its first occurrence",
        ),
        _row(
            lambda: g.deploy_due(AMS_GAP, t("2026-10-25T01:31:00Z"), HALF_H),
            True,
            "no deploy expected before the run would end",
            id="deploy_due DST: the repeated fall-back hour does not fire twice",
        ),
    ],
)
def test_deploy_due_keeps_runs_clear_of_expected_deploys(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


CLOSE = t("2026-01-10T06:00:00Z")


@pytest.mark.parametrize(
    COLUMNS,
    [
        _row(
            lambda: g.window_fit(timedelta(hours=5), NOON, None, "always"),
            True,
            "window always is open until further notice",
            id="window_fit: a window that never closes fits anything",
        ),
        _row(
            lambda: g.window_fit(HALF_H, CLOSE - timedelta(hours=1), CLOSE, "weekend"),
            True,
            "estimate 30m fits before weekend closes at Sat 2026-01-10 06:00 UTC",
            id="window_fit: ending well before the close fits",
        ),
        _row(
            lambda: g.window_fit(HALF_H, CLOSE - HALF_H, CLOSE, "weekend"),
            True,
            "estimate 30m fits before weekend closes at Sat 2026-01-10 06:00 UTC",
            id="window_fit: ending at the exact closing minute fits",
        ),
        _row(
            lambda: g.window_fit(HALF_H, CLOSE - HALF_H + MIN, CLOSE, "weekend"),
            False,
            "estimate 30m ends Sat 2026-01-10 06:01 UTC, after window weekend closes at "
            "Sat 2026-01-10 06:00 UTC",
            id="window_fit: ending one minute after the close fails",
        ),
        _row(
            lambda: g.window_fit(HALF_H, CLOSE - timedelta(hours=1), CLOSE, "always"),
            True,
            "estimate 30m fits before a deny window opens at Sat 2026-01-10 06:00 UTC",
            id="window_fit: an unrestricted window ends only where a deny window opens",
        ),
        _row(
            lambda: g.window_fit(HALF_H, CLOSE - HALF_H + MIN, CLOSE, "always"),
            False,
            "estimate 30m ends Sat 2026-01-10 06:01 UTC, after a deny window opens at "
            "Sat 2026-01-10 06:00 UTC",
            id="window_fit: an unrestricted run crossing into a deny window fails",
        ),
    ],
)
def test_window_fit_requires_the_run_to_end_before_the_window_closes(
    call: Callable[[], g.GuardResult],
    ok: bool,
    reason: str,
    configured: bool,
    allowed: int | None,
    ready_at: datetime | None,
) -> None:
    _check(call(), ok, reason, configured, allowed, ready_at)


def test_guard_results_serialise_with_ready_at_as_iso_text() -> None:
    result = g.bake([NOON - TWO_H + MIN], TWO_H, NOON)
    assert result.to_dict() == {
        "name": "bake",
        "ok": False,
        "reason": "migration 1's package has not baked 2h yet (ready Thu 2026-01-08 12:01 UTC)",
        "configured": True,
        "allowed": 0,
        "ready_at": "2026-01-08T12:01:00+00:00",
    }
