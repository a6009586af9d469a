"""Guards: pure functions of data gathered by the caller, each returning a GuardResult.

Environment guards (paused, deploy running, lock, DB load, incidents) stop every run. Prefix guards
(holds, bake, chain, preserve_rollback) say how many of the pending migrations, in version order, may
run (`allowed`) and, when time alone fixes a cut, when the next one becomes ready (`ready_at`).
Timing guards (deploy due, window fit) check one run interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.policy.forecast import ExpectedDeploys
from scheduler.policy.windows import UTC, format_duration, format_time


@dataclass(frozen=True)
class GuardResult:
    """Outcome of one guard: `ok` = it does not stop a run now; `configured` = it has a data source."""

    name: str
    ok: bool
    reason: str
    configured: bool = True
    allowed: int | None = None
    ready_at: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-able form."""
        return {
            "name": self.name,
            "ok": self.ok,
            "reason": self.reason,
            "configured": self.configured,
            "allowed": self.allowed,
            "ready_at": self.ready_at.isoformat() if self.ready_at else None,
        }


# the answers that say nothing of the instant, made once (a worker evaluation asks every guard)
_NOT_PAUSED = GuardResult("paused", True, "not paused")
_NOT_LOCKED = GuardResult("lock", True, "environment not locked")
_NO_DEPLOY = GuardResult("deploy_running", True, "no deploy running")
_NO_DB_LOAD_GUARD = GuardResult("db_load", True, "max_db_load not configured", configured=False)
_NO_INCIDENT_TRACKING = GuardResult("incidents", True, "incidents not configured", configured=False)
_NO_INCIDENT = GuardResult("incidents", True, "no open incident")


def paused(is_paused: bool, reason: str = "") -> GuardResult:
    """Stop everything while the environment is paused (`/pdm pause`)."""
    if is_paused:
        return GuardResult("paused", False, f"paused: {reason}" if reason else "paused (no reason given)")
    return _NOT_PAUSED


def locked(holder: str | None) -> GuardResult:
    """Stop while another process (a deploy, a PDM run) holds the environment lock."""
    if holder:
        return GuardResult("lock", False, f"environment locked by {holder}")
    return _NOT_LOCKED


def deploy_running(running: bool, since: datetime | None = None) -> GuardResult:
    """Stop while a deploy of the environment is running."""
    if running:
        when = f" since {format_time(since, UTC)}" if since else ""
        return GuardResult("deploy_running", False, f"a deploy is running{when}")
    return _NO_DEPLOY


def deploy_due(
    expected: ExpectedDeploys | None, start: datetime, estimate: timedelta, unconfigured: str = ""
) -> GuardResult:
    """A run [start, start+estimate) must not overlap an expected deploy (`deploy_schedule` or the
    deploy forecast); `unconfigured` says why no deploys are expected (not configured, no history)."""
    if expected is None:
        return GuardResult(
            "deploy_due", True, unconfigured or "deploy_schedule not configured", configured=False
        )
    end = start + estimate
    if expected.is_open(start):
        ends = expected.closes_at(start)
        return GuardResult(
            "deploy_due",
            False,
            "an expected deploy holds the environment"
            + (f" until {format_time(ends, expected.zone)}" if ends else "")
            + _because(expected, start),
            ready_at=ends,
        )
    due = expected.next_open(start)
    if due is not None and due < end:
        free = expected.closes_at(due)
        return GuardResult(
            "deploy_due",
            False,
            f"a deploy is due at {format_time(due, expected.zone)}{_because(expected, due)}, "
            "before the run would end "
            f"(estimate {format_duration(estimate)}, ends {format_time(end, expected.zone)})",
            ready_at=free,
        )
    because = _because(expected, due) if due is not None else ""
    following = f"; next{because}" if because else ""
    clear = expected.why_clear(start)
    clear = f" ({clear})" if clear else ""
    return GuardResult("deploy_due", True, f"no deploy expected before the run would end{clear}{following}")


def _because(expected: ExpectedDeploys, at: datetime) -> str:
    """` (deploys expected Sat 04:00–05:00 UTC: seen 4 of the last 4 weeks)`, or nothing."""
    why = expected.why(at)
    return f" ({why})" if why else ""


def _load(value: float) -> str:
    return f"{value:.2f}" if value == 0 or abs(value) >= 0.01 else f"{value:.2g}"


def db_load(value: float | None, threshold: float | None, unknown: str = "") -> GuardResult:
    """Defer while DB load is above the threshold; unconfigured passes, no reading fails.

    `unknown` says why there is no reading (e.g. the Prometheus query failed) and ends the reason.
    """
    if threshold is None:
        return _NO_DB_LOAD_GUARD
    if value is None:
        return GuardResult("db_load", False, f"DB load unknown: {unknown or 'no reading taken'}")
    if value > threshold:
        return GuardResult(
            "db_load", False, f"DB load {_load(value)} > {_load(threshold)} (max_db_load threshold)"
        )
    return GuardResult(
        "db_load", True, f"DB load {_load(value)} <= {_load(threshold)} (max_db_load threshold)"
    )


def incidents(open_count: int | None) -> GuardResult:
    """Defer while an incident is open; None = incident tracking not configured → passes."""
    if open_count is None:
        return _NO_INCIDENT_TRACKING
    if open_count > 0:
        return GuardResult("incidents", False, f"{open_count} incident(s) open")
    return _NO_INCIDENT


def holds(versions: Sequence[str], held: Mapping[str, str]) -> GuardResult:
    """`hold VERSION` stops the prefix just before the held migration."""
    if not held:
        return GuardResult("holds", True, "no migration on hold", configured=False, allowed=len(versions))
    for i, version in enumerate(versions):
        if version in held:
            why = f": {held[version]}" if held[version] else ""
            return GuardResult(
                "holds", i > 0, f"{version} is on hold{why}; only the {i} before it may run", allowed=i
            )
    return GuardResult("holds", True, "no migration on hold", configured=bool(held), allowed=len(versions))


def bake(
    deployed_at: Sequence[datetime | None], min_bake: timedelta, at: datetime, *, baked: int = 0
) -> GuardResult:
    """Each migration's package must have been live `min_bake` before the migration runs (`baked`: how
    many leading ones the caller already knows have baked)."""
    if min_bake <= timedelta(0):
        return GuardResult("bake", True, "min_bake is 0", configured=False, allowed=len(deployed_at))
    for i in range(baked, len(deployed_at)):
        when = deployed_at[i]
        if when is None:
            return GuardResult(
                "bake", i > 0, f"migration {i + 1}'s package has no recorded deploy time", allowed=i
            )
        ready = when + min_bake
        if ready > at:
            return GuardResult(
                "bake",
                i > 0,
                f"migration {i + 1}'s package has not baked {format_duration(min_bake)} yet "
                f"(ready {format_time(ready, UTC)})",
                allowed=i,
                ready_at=ready,
            )
    return GuardResult(
        "bake", True, f"every package baked at least {format_duration(min_bake)}", allowed=len(deployed_at)
    )


def chain(
    versions: Sequence[str],
    requires: str | None,
    min_soak: timedelta,
    upstream_successes: Mapping[str, datetime],
    at: datetime,
) -> GuardResult:
    """Only migrations that succeeded on the upstream environment at least `min_soak` ago may run."""
    if requires is None:
        return GuardResult("chain", True, "no upstream environment", configured=False, allowed=len(versions))
    for i, version in enumerate(versions):
        done = upstream_successes.get(version)
        if done is None:
            return GuardResult("chain", i > 0, f"{version} has not run on {requires} yet", allowed=i)
        if done + min_soak > at:
            ready = done + min_soak
            verb = "ran" if done <= at else "is projected to finish"
            return GuardResult(
                "chain",
                i > 0,
                f"{version} {verb} on {requires} at {format_time(done, UTC)}; "
                f"soaks until {format_time(ready, UTC)}",
                allowed=i,
                ready_at=ready,
            )
    return GuardResult(
        "chain",
        True,
        f"every pending migration soaked {format_duration(min_soak)} on {requires}",
        allowed=len(versions),
    )


def preserve_rollback(enabled: bool, packages: Sequence[str | None], current: str | None) -> GuardResult:
    """When enabled, only migrations brought by packages older than the one deployed now may run."""
    if not enabled:
        return GuardResult(
            "preserve_rollback", True, "preserve_rollback is off", configured=False, allowed=len(packages)
        )
    for i, package in enumerate(packages):
        if package is None or package == current:
            return GuardResult(
                "preserve_rollback",
                i > 0,
                f"migration {i + 1} came with the package deployed now ({(current or '?')[:11]}); "
                "it runs after "
                "the next deploy so a rollback to the previous package stays possible",
                allowed=i,
            )
    return GuardResult(
        "preserve_rollback", True, "every pending migration came with an older package", allowed=len(packages)
    )


def window_fit(estimate: timedelta, start: datetime, closes_at: datetime | None, window: str) -> GuardResult:
    """The estimated run must end before the window closes (or a deny window opens)."""
    if closes_at is None:
        return GuardResult("window_fit", True, f"window {window} is open until further notice")
    end = start + estimate
    if end > closes_at:
        return GuardResult(
            "window_fit",
            False,
            f"estimate {format_duration(estimate)} ends {format_time(end, UTC)}, after "
            f"{_closing(window, 'window ')} at {format_time(closes_at, UTC)}",
        )
    return GuardResult(
        "window_fit",
        True,
        f"estimate {format_duration(estimate)} fits before {_closing(window)} "
        f"at {format_time(closes_at, UTC)}",
    )


def _closing(window: str, prefix: str = "") -> str:
    """How the end of `window` reads: `always` only ends where a deny window opens."""
    return "a deny window opens" if window == "always" else f"{prefix}{window} closes"
