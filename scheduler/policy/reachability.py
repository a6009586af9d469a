"""Natures a valid policy can never run: their windows do not open within a horizon (deny windows cover
them, or they never fire), or no opening is long enough for the smallest run of the nature. The planner
would wait for them forever; `check-config` warns instead, also when the openings long enough come so
seldom that a migration may wait months for one (deny windows that leave only the hour a summer-time
change repeats, say), and when the `deploy_schedule` leaves no time between deploys (every run then
delays one)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice

from scheduler.natures import ALL_NATURES, Nature
from scheduler.policy.model import Mode, Policy, SizeDurations
from scheduler.policy.windows import (
    ALWAYS_WINDOW,
    HORIZON,
    allowed_stretches,
    format_duration,
    format_time,
)

_OPENINGS = 5000  # looked at per nature at most: a bounded cost for every policy (a minute in two)
_AHEAD_CHECKED = 50  # coming openings of an approval-mode nature looked at for working hours before them
_SELDOM = timedelta(days=90)  # a longer wait for an opening long enough is worth a warning


def smallest_run(policy: Policy, nature: Nature) -> timedelta:
    """The shortest run a migration of `nature` can take by the policy's estimates: the per-run overhead
    and the nature's smallest size-class estimate."""
    sizes: SizeDurations = getattr(policy.durations, nature.value)
    each = (sizes.small, sizes.medium, sizes.large, sizes.over_limit, sizes.unknown)
    return policy.durations.overhead + min(each)


def never_runs(policy: Policy, now: datetime) -> list[str]:
    """One warning per nature that cannot run within `HORIZON` of `now` (or runs seldom, or, in
    approval mode, is never proposed ahead of its windows), saying why, and one when the
    `deploy_schedule` leaves no time between expected deploys."""
    warnings = []
    days = HORIZON.days
    for nature in ALL_NATURES:
        allow, deny = policy.window_sets(nature)
        names = ", ".join(policy.nature_policy(nature).windows)
        need, longest, seen, last = smallest_run(policy, nature), timedelta(0), 0, now
        usable, wait, since = 0, timedelta(0), now  # openings long enough; the longest wait for one
        first, coming = now, list[datetime]()  # the first of them; the next ones still to open
        for start, end in islice(allowed_stretches(allow, deny, now, now + HORIZON), _OPENINGS):
            seen, longest, last = seen + 1, max(longest, end - max(start, now)), end
            if end - max(start, now) >= need:
                first = first if usable else max(start, now)
                usable, wait, since = usable + 1, max(wait, start - since), end
                if start > now and len(coming) < _AHEAD_CHECKED:
                    coming.append(start)
        if not seen:
            fired = next(allowed_stretches(allow, (), now, now + HORIZON), None) is not None
            covers = ", ".join(w.name for w in deny)
            why = f"are covered by deny windows ({covers}) whenever they open" if fired else "never open"
            warnings.append(
                f"nature {nature.value} never runs: its windows ({names}) {why} in the next {days} days"
            )
        elif longest < need:
            looked = f"until {format_time(last, policy.zone)} ({_OPENINGS} openings looked at)"
            span = f"in the next {days} days" if seen < _OPENINGS else looked
            warnings.append(
                f"nature {nature.value} never runs {span}: the longest opening of its windows ({names}) "
                f"lasts {format_duration(longest)}, less than its shortest run ({format_duration(need)} with "
                "the per-run overhead)"
            )
        elif seen < _OPENINGS and max(wait, now + HORIZON - since) > _SELDOM:
            wait = max(wait, now + HORIZON - since)
            warnings.append(
                f"nature {nature.value} seldom runs: its windows ({names}) leave {usable} opening"
                f"{'s' if usable != 1 else ''} long enough for its shortest run ({format_duration(need)}) in "
                f"the next {days} days (the first at {format_time(first, policy.zone)}), and up to "
                f"{wait.days} days pass without one"
            )
        elif usable and policy.nature_policy(nature).mode is Mode.APPROVAL:
            warnings.extend(_proposed_in_window_only(policy, nature, coming, now))
    schedule, g = policy.deploy_window, policy.guards
    if (
        schedule is not None
        and next(allowed_stretches((ALWAYS_WINDOW,), (schedule,), now, now + HORIZON), None) is None
    ):
        warnings.append(
            f"deploy_schedule '{g.deploy_schedule}' for {format_duration(g.deploy_duration)} leaves no time "
            f"between expected deploys in the next {days} days: every run delays a deploy"
        )
    return warnings


def _proposed_in_window_only(
    policy: Policy, nature: Nature, starts: list[datetime], now: datetime
) -> list[str]:
    """A warning when no working hours fall within `proposals.lead_time` before any of the coming
    openings `starts` of an approval-mode nature (the first `_AHEAD_CHECKED` long enough): its proposals
    are posted only once a window is open, and an approval that comes after the window has closed
    lapses."""
    lead, hours = policy.proposals.lead_time, policy.proposals.working_hours
    working = (hours.window(policy.zone),)
    if not starts or any(
        (found := next(allowed_stretches(working, (), max(now, s - lead), s), None)) is not None
        and found[0] < s
        for s in starts
    ):
        return []
    names = ", ".join(policy.nature_policy(nature).windows)
    return [
        f"nature {nature.value} (approval) is proposed only once its windows ({names}) are open: no "
        f"working hours ('{hours.schedule}' for {format_duration(hours.duration)}) fall within the lead "
        f"time ({format_duration(lead)}) before any of its next {len(starts)} openings, so "
        "approvers must answer inside the window"
    ]
