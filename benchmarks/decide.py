"""Benchmark: decide() with 1,000 pending migrations and 50 windows; project() over 90 days; and
decide() where no opening fits the head (10-minute openings every 15 minutes, a monthly window) or a deny
window covers every opening (the shapes random policies found slow: the search walked window edges).

Usage: python benchmarks/decide.py   (targets: decide < 20 ms, project 90 days < 1 s)
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from scheduler.classify.model import Classification
from scheduler.natures import ALL_NATURES
from scheduler.plan import decide, project
from scheduler.policy.decision import EnvState, PendingMigration
from scheduler.policy.model import load_policy


def policy_text() -> str:
    """45 allow windows (one per hour slot of the week days; every third one touches or overlaps its
    next opening: daily 24 h / 48 h, hourly 1 h, every minute 1 m) and 5 deny windows."""
    shapes = [
        ("{m} {h} * * {d}", "2h"),
        ("{m} {h} * * *", "24h"),
        ("{m} {h} * * {d}", "2h"),
        ("{m} {h} * * *", "48h"),
        ("{m} * * * {d}", "1h"),
        ("* * * * *", "1m"),
    ]
    windows = []
    for i in range(45):
        cron, duration = shapes[i % len(shapes)]
        schedule = cron.format(m=i % 60, h=i % 24, d=i % 7)
        windows.append(f"  - {{name: a{i}, kind: allow, schedule: '{schedule}', duration: {duration}}}")
    windows += [
        f"  - {{name: d{i}, kind: deny, schedule: '0 12 {i + 1} * *', duration: 3h}}" for i in range(5)
    ]
    natures = "\n".join(
        f"  {n.value}: {{windows: [a{k}, a{k + 6}, a{k + 12}], mode: auto}}"
        for k, n in enumerate(ALL_NATURES)
    )
    return "environments: [{name: gprd}]\nwindows:\n" + "\n".join(windows) + "\nnatures:\n" + natures + "\n"


def main() -> None:
    """Print timings."""
    policy = load_policy(policy_text())
    at = datetime.fromisoformat("2026-01-09T15:00:00+00:00")
    pending = tuple(
        PendingMigration(
            f"2026{i:010d}",
            Classification(
                path=f"{i}.rb",
                version=f"2026{i:010d}",
                name="m",
                primary_nature=ALL_NATURES[i % 2],
                natures=[],
            ),
            "p",
            at - timedelta(days=3),
        )
        for i in range(1000)
    )
    state = EnvState("gprd", pending)
    runs = 20
    start = time.perf_counter()
    reference = [sorted(str(v) for v in range(1000)) for _ in range(runs)]
    sort_ms = (time.perf_counter() - start) / runs * 1000
    start = time.perf_counter()
    decide(state, policy, at - timedelta(days=1))
    cold = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    for k in range(runs):
        decide(state, policy, at + timedelta(minutes=37 * k))
    per_decide = (time.perf_counter() - start) / runs * 1000
    start = time.perf_counter()
    schedule = project(state, policy, at, timedelta(days=90))
    projection = time.perf_counter() - start
    print(f"reference: sorting 1,000 strings {sort_ms:.2f} ms ({len(reference)} runs)")
    print(f"decide, first call (cold window memo): {cold:.1f} ms")
    print(f"decide, 1000 pending, 50 windows: {per_decide:.1f} ms per call (target < 20 ms)")
    print(f"project, 90 days: {projection * 1000:.0f} ms, {len(schedule)} runs (target < 1000 ms)")
    for name, text in HARD_SHAPES.items():
        hard = load_policy(text)
        one = EnvState("gprd", pending[:1])
        start = time.perf_counter()
        first = decide(one, hard, at)
        cold = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        for k in range(runs):
            decide(one, hard, at + timedelta(minutes=37 * k))
        warm = (time.perf_counter() - start) / runs * 1000
        found = f"{first.next_window_at:%Y-%m-%d %H:%M}" if first.next_window_at else "none"
        print(f"decide, {name}: first call {cold:.1f} ms, then {warm:.1f} ms per call; next start {found}")


HARD_SHAPES = {
    "head longer than every opening": (
        "environments: [{name: gprd}]\nwindows:\n"
        "  - {name: quarters, kind: allow, schedule: '*/15 * * * *', duration: 10m}\n"
        "  - {name: first-saturday, kind: allow, schedule: '0 3 * * 6#1', duration: 4h}\n"
        "natures: {no_op: {windows: [quarters, first-saturday], mode: auto}}\n"
        "durations: {overhead: 10m, no_op: 15m}\n"
    ),
    "deny window over every opening": (
        "environments: [{name: gprd}]\nwindows:\n"
        "  - {name: quarters, kind: allow, schedule: '*/15 * * * *', duration: 10m}\n"
        "  - {name: always-denied, kind: deny, schedule: '*/15 * * * *', duration: 30m}\n"
        "natures: {no_op: {windows: [quarters], mode: auto}}\n"
    ),
}


if __name__ == "__main__":
    main()
