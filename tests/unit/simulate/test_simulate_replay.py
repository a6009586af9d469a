"""Generation determinism, event vs minute resolution, and the bundled GitLab.com-like month."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scheduler.natures import Nature
from scheduler.plan import decide
from scheduler.policy.decision import Decision, EnvState
from scheduler.policy.model import Policy, load_policy
from scheduler.simulate import Scenario, engine, load_scenario, parse_scenario, simulate
from scheduler.simulate.engine import Outcome, PolicyStrategy, Replay, classification, replay

REPO = Path(__file__).resolve().parents[3]
GENERATE: dict[str, Any] = {
    "per_day": [2, 4],
    "seed": 7,
    "mix": {
        "background_scheduling": 2,
        "index_and_constraint": 1,
        "data_migration": 1,
        "ddl_cleanup": 1,
        "unknown": 0.5,
    },
}


def generated(raw: Callable[..., dict[str, Any]], **changes: Any) -> Scenario:
    return parse_scenario(raw({"generate": {**GENERATE, **changes}}, environments=["gstg", "gprd"], days=5))


def _deploys(s: Scenario) -> list[dict[str, Any]]:
    return [d.model_dump(mode="json") for d in s.deploy_list]


def test_the_same_seed_generates_the_same_deploys(raw: Callable[..., dict[str, Any]]) -> None:
    first, second = generated(raw), generated(raw)
    assert _deploys(first) == _deploys(second)
    assert len(first.deploy_list) >= 2 * 5 * 2


def test_another_seed_generates_other_deploys(raw: Callable[..., dict[str, Any]]) -> None:
    assert _deploys(generated(raw)) != _deploys(generated(raw, seed=8))


def test_generated_packages_reach_every_environment_in_order(raw: Callable[..., dict[str, Any]]) -> None:
    s = generated(raw, promote_minutes=90)
    by_sha: dict[str, list[tuple[str, str]]] = {}
    for d in s.deploy_list:
        by_sha.setdefault(d.sha, []).append((d.environment, d.at.isoformat()))
    assert all([env for env, _ in seq] == ["gstg", "gprd"] for seq in by_sha.values())


def test_generated_weekdays_follow_per_day_and_weekends_weekend_per_day(
    raw: Callable[..., dict[str, Any]],
) -> None:
    s = parse_scenario(
        raw({"generate": {**GENERATE, "per_day": 3, "weekend_per_day": 1}}, environments=["gstg"], days=7)
    )
    per_day: dict[int, int] = {}
    for d in s.deploy_list:
        per_day[d.at.weekday()] = per_day.get(d.at.weekday(), 0) + 1
    assert per_day == {0: 3, 1: 3, 2: 3, 3: 3, 4: 3, 5: 1, 6: 1}


def test_generated_tables_leave_no_op_migrations_none_and_the_others_theirs(
    raw: Callable[..., dict[str, Any]],
) -> None:
    # the classifier reports every no-op as touching no table; the draws stay those of each seed
    mix = {**GENERATE["mix"], "no_op": 2}
    listed = [m for d in generated(raw, mix=mix, tables=60).deploy_list for m in d.migrations]
    without = [m for d in generated(raw, mix=mix).deploy_list for m in d.migrations]
    no_ops = [m for m in listed if m.nature is Nature.NO_OP]
    others = [m for m in listed if m.nature is not Nature.NO_OP]
    assert no_ops and others and [m.version for m in listed] == [m.version for m in without]
    assert all(m.tables == [] for m in no_ops)
    assert all(m.tables and 1 <= len(m.tables) <= 2 for m in others)
    assert all(m.tables is None for m in without)


def test_generated_packages_on_a_clock_start_within_the_jitter_of_their_slot(
    raw: Callable[..., dict[str, Any]],
) -> None:
    s = parse_scenario(
        raw(
            {"generate": {**GENERATE, "per_day": 6, "weekend_per_day": 6, "jitter_minutes": 10}},
            environments=["gstg"],
            days=7,
        )
    )
    offsets = [(d.at.hour % 4) * 60 + d.at.minute for d in s.deploy_list]  # minutes into a 4-hour slot
    assert len(offsets) == 42 and max(offsets) <= 10 and len(set(offsets)) > 1
    anywhere = parse_scenario(raw({"generate": {**GENERATE, "per_day": 6}}, environments=["gstg"], days=7))
    assert max((d.at.hour % 4) * 60 + d.at.minute for d in anywhere.deploy_list) > 60


def _runs(outcome: Outcome) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (r.environment, r.start.isoformat(), tuple(e.version for e in r.executions)) for r in outcome.runs
    ]


def test_event_driven_replay_matches_a_minute_by_minute_replay(
    raw: Callable[..., dict[str, Any]], policy: Policy
) -> None:
    s = parse_scenario(
        raw({"generate": {**GENERATE, "per_day": [3, 5]}}, environments=["gstg", "gprd"], days=3)
    )
    by_event = replay(s, PolicyStrategy(policy, "event"))
    by_minute = replay(s, PolicyStrategy(policy, "minute"))
    assert _runs(by_event) == _runs(by_minute)
    assert by_event.human_actions == by_minute.human_actions
    assert len(by_event.runs) >= 3


def test_while_the_heads_window_and_working_hours_are_closed_the_event_replay_asks_decide_nothing(
    scenario: Callable[..., Scenario],
    deploy: Callable[..., dict[str, Any]],
    policy: Policy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Monday 19:00-19:30, after working hours: an index build (night window, 01:00-06:00) ahead of a
    # manual migration. Nothing may start or be proposed before 01:00; the manual one is asked for at once
    s = scenario([deploy("19:00", ("1", "index_and_constraint", 20), ("2", "unknown", 10))], days=3)
    asked: list[datetime] = []

    def recorded(state: EnvState, p: Policy, now: datetime, *, follow_up: bool = False) -> Decision:
        asked.append(now)
        return decide(state, p, now, follow_up=follow_up)

    monkeypatch.setattr(engine, "decide", recorded)
    event = replay(s, PolicyStrategy(policy, "event"))
    assert min(asked) == datetime(2026, 1, 6, 1, tzinfo=UTC)  # the night window's opening
    assert _runs(event)[0] == ("gstg", "2026-01-06T01:00:00+00:00", ("1",))
    asked.clear()
    minute = replay(s, PolicyStrategy(policy, "minute"))
    assert min(asked) == datetime(2026, 1, 5, 19, 30, tzinfo=UTC)  # the reference asks at every minute
    assert _runs(event) == _runs(minute)
    assert event.human_actions == minute.human_actions == 2  # /pdm run for the manual one, its approval


def test_a_soak_end_wakes_the_downstream_only_when_its_head_ran_in_that_run(
    scenario: Callable[..., Scenario],
    deploy: Callable[..., dict[str, Any]],
    make_policy: Callable[[str], Policy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # gstg runs 0 at 19:30 and 1 at 21:30 (2 h bake each); gprd gets both at 22:30 and its head, 0, waits
    # for its own bake until 00:30: the soak of 1 ending at 23:40 changes nothing there
    s = scenario(
        [
            deploy("17:00", ("0", "background_scheduling", 10)),
            deploy("19:00", ("1", "background_scheduling", 10), sha="a2"),
            deploy(
                "22:00", ("0", "background_scheduling", 10), ("1", "background_scheduling", 10), env="gprd"
            ),
        ]
    )
    policy = make_policy("guards: {min_bake: 2h}\n")
    asked: list[tuple[str, datetime]] = []

    def recorded(state: EnvState, p: Policy, now: datetime, *, follow_up: bool = False) -> Decision:
        asked.append((state.environment, now))
        return decide(state, p, now, follow_up=follow_up)

    monkeypatch.setattr(engine, "decide", recorded)
    event = replay(s, PolicyStrategy(policy, "event"))
    gprd = [at for env, at in asked if env == "gprd"]
    assert gprd == [datetime(2026, 1, 5, 22, 30, tzinfo=UTC), datetime(2026, 1, 6, 0, 30, tzinfo=UTC)]
    assert _runs(event) == _runs(replay(s, PolicyStrategy(policy, "minute")))
    assert _runs(event)[-1] == ("gprd", "2026-01-06T00:30:00+00:00", ("0", "1"))


def test_a_soak_end_grows_a_waiting_downstream_proposal_though_its_head_ran_earlier(
    scenario: Callable[..., Scenario], deploy: Callable[..., dict[str, Any]], policy: Policy
) -> None:
    # gstg runs the data migration 1 approved on Monday at Tue 01:00, then the automatic index build 2 at
    # 01:10; gprd, deployed after working hours, proposes 1 when its soak ends (03:10), and 1 and 2 when
    # the soak of 2 ends (03:20), while the first proposal waits for the morning
    s = scenario(
        [
            deploy("10:00", ("1", "data_migration", 10)),
            deploy("19:00", ("1", "data_migration", 10), env="gprd"),
            deploy("2026-01-06T00:00:00Z", ("2", "index_and_constraint", 10), sha="a2"),
            deploy("2026-01-06T00:00:00Z", ("2", "index_and_constraint", 10), env="gprd", sha="a2"),
        ]
    )
    by_event, by_minute = PolicyStrategy(policy, "event"), PolicyStrategy(policy, "minute")
    event, minute = replay(s, by_event), replay(s, by_minute)
    assert ("gstg", "2026-01-06T01:10:00+00:00", ("2",)) in _runs(event)
    assert by_event._proposals == by_minute._proposals
    assert _runs(event) == _runs(minute) and event.human_actions == minute.human_actions


def test_a_proposal_in_its_window_is_not_asked_again_as_its_batch_shrinks_towards_the_close(
    raw: Callable[..., dict[str, Any]], make_policy: Callable[[str], Policy]
) -> None:
    # deployed after working hours: the night's batch is proposed at 01:00 and answered at 09:00, after
    # the window; meanwhile one fewer of the ten (estimated 30 min each) fits before 06:00 every 30 min
    migrations = [
        {"version": str(v), "nature": "data_migration", "duration_minutes": 30} for v in range(10, 20)
    ]
    deploy = {"at": "2026-01-05T19:00:00Z", "environment": "gstg", "sha": "a1", "duration_minutes": 30}
    s = parse_scenario(raw([{**deploy, "migrations": migrations}]))
    policy = make_policy("guards: {min_bake: 0m, preserve_rollback: false, deploy_forecast: off}\n")
    for resolution in ("event", "minute"):
        strategy = PolicyStrategy(policy, resolution)
        outcome = replay(s, strategy)
        # the night's proposal, then Tuesday afternoon's ahead of Wednesday night (the only one answered)
        assert strategy._proposals == 2, resolution  # the worker's cron evaluates every minute
        assert outcome.human_actions == 1 and outcome.runs == []


WITH_HISTORY: dict[str, Any] = {  # a month of known deploys: the forecast, its soft rooms and promotions act
    "start": "2026-02-02T00:00:00Z",
    "environments": ["gstg", "gprd"],
    "traffic": {"hourly": [0.4] * 8 + [0.9] * 12 + [0.5] * 4, "weekend_factor": 0.5, "peak_threshold": 0.7},
}
MIX = {"background_scheduling": 0.32, "index_and_constraint": 0.24, "ddl_cleanup": 0.2}
MIX |= {"data_migration": 0.1, "no_op": 0.1, "unknown": 0.04}


@pytest.mark.parametrize(
    ("cadence", "seed", "days"),
    [
        # a backlog that starts pressing its window between two ends of seen gaps (Sat 7 Feb 09:57), and
        # a package deployed upstream at the instant of the evaluation (Sat 11:44)
        ({"per_day": 6, "weekend_per_day": 6}, 10, 6),
        # an expected slot that the forecast, re-learnt at the next hour start, no longer expects (Sat 7
        # Feb 08:00): the event replay used to wait for the decision's later start
        ({"per_day": 6, "weekend_per_day": 6}, 2, 6),
        # an awaited promotion joining the expected deploy that holds the environment (Thu 5 Feb 04:34):
        # together they last until the window closes
        (
            {
                "per_day": [3, 5],
                "weekend_per_day": 0,
                "hours": [0, 22],
                "bursts": [{"weekday": 3, "per_day": 12}],
            },
            1,
            4,
        ),
    ],
)
def test_event_driven_replay_matches_a_minute_by_minute_replay_where_the_forecast_acts(
    cadence: dict[str, Any], seed: int, days: int
) -> None:
    generate = {**cadence, "seed": seed, "promote_minutes": 150, "migrations_per_deploy": [0, 3]}
    generate |= {"mix": MIX, "tables": 60, "history_weeks": 4}
    s = parse_scenario({**WITH_HISTORY, "days": days, "deploys": {"generate": generate}})
    policy = load_policy((REPO / "examples" / "policy-auto.yaml").read_text(encoding="utf-8"))
    by_event = replay(s, PolicyStrategy(policy, "event"))
    by_minute = replay(s, PolicyStrategy(policy, "minute"))
    assert sorted(_runs(by_event)) == sorted(_runs(by_minute))
    assert len(by_event.runs) >= 10


def _daily_cadence_replays(seed: int, days: int) -> tuple[Outcome, Outcome]:
    """The event and minute replays of the simulate benchmark's cadence (deploys every day) with `seed`,
    under the bundled approval policy."""
    generate = {"per_day": 8, "weekend_per_day": 8, "seed": seed, "hours": [0, 22], "mix": MIX}
    s = parse_scenario(
        {**WITH_HISTORY, "start": "2026-01-05T00:00:00Z", "days": days, "deploys": {"generate": generate}}
    )
    policy = load_policy((REPO / "examples" / "policy.yaml").read_text(encoding="utf-8"))
    return replay(s, PolicyStrategy(policy, "event")), replay(s, PolicyStrategy(policy, "minute"))


def test_the_event_driven_replay_wakes_where_the_forecast_is_relearnt_at_an_hours_start() -> None:
    # on Sun 25 Jan at 02:55 gstg's next migration waits for the deploys expected Sun 03:00–04:00 (seen
    # 2 of the last 2 weeks); the forecast learnt at 03:00 no longer holds that hour, and it runs then.
    # The event replay reaches 03:00 only because it wakes where the forecast is re-learnt while
    # forecast deploys hold the head back (nothing else happens then; without the wake it runs later)
    event, minute = _daily_cadence_replays(182, 21)
    assert sorted(_runs(event)) == sorted(_runs(minute))
    assert ("gstg", "2026-01-25T03:00:00+00:00") in {(e, at) for e, at, _ in _runs(event)}


def test_the_event_driven_replay_wakes_where_an_old_deploy_leaves_the_forecasts_lookback() -> None:
    # on Sun 8 Feb at 00:00 gstg's head (an index of 1 h) waits: 19 in 20 of the gaps between deploys as
    # long as the one since Sat 20:38 leave no room for it. The deploy of Sun 11 Jan 00:35 leaves the
    # 28-day lookback at 00:35; from 00:36 the gaps counted differ, the start search finds 00:39, and the
    # head runs then. Without the wake at 00:36 nothing happens until later, and it runs later
    event, minute = _daily_cadence_replays(211, 35)
    assert sorted(_runs(event)) == sorted(_runs(minute))
    assert ("gstg", "2026-02-08T00:39:00+00:00") in {(e, at) for e, at, _ in _runs(event)}


def test_in_approval_mode_the_event_driven_replay_follows_a_waiting_proposal_up_as_a_minutely_one() -> None:
    # office hours, with the bundled approval policy: a gprd proposal posted inside the weekend window
    # (Sat 7 Feb) grows when the room before the next expected deploy does; the worker's minutely
    # evaluation proposes the grown batch and asks for the /pdm run of the manual migration after it;
    # the release manager reads them on Monday, after the window closed: none is answered
    cadence = {"per_day": [3, 6], "weekend_per_day": 0, "hours": [8, 18]}
    generate = {**cadence, "seed": 5, "promote_minutes": 150, "migrations_per_deploy": [0, 3]}
    generate |= {"mix": MIX, "tables": 60, "history_weeks": 4}
    s = parse_scenario({**WITH_HISTORY, "days": 8, "deploys": {"generate": generate}})
    policy = load_policy((REPO / "examples" / "policy.yaml").read_text(encoding="utf-8"))
    by_event, by_minute = PolicyStrategy(policy, "event"), PolicyStrategy(policy, "minute")
    event, minute = replay(s, by_event), replay(s, by_minute)
    assert sorted(_runs(event)) == sorted(_runs(minute))
    assert event.human_actions == minute.human_actions == 2  # Friday's two approvals
    assert by_event._proposals == by_minute._proposals


def test_the_replay_records_each_run_it_started_with_the_policys_own_estimates(
    raw: Callable[..., dict[str, Any]], policy: Policy
) -> None:
    s = parse_scenario(
        raw({"generate": {**GENERATE, "per_day": [3, 5]}}, environments=["gstg", "gprd"], days=3)
    )
    sim = Replay(s, PolicyStrategy(policy))
    outcome = sim.run()
    for env in sim.envs.values():
        runs = [r for r in outcome.runs if r.environment == env.name and r.end < s.end]
        assert runs and len(env.timings) == len(runs)
        for run, timing in zip(runs, env.timings, strict=True):
            assert timing.finished_at == run.end and timing.took == run.end - run.start
            assert [p[0] for p in timing.parts] == [e.nature for e in run.executions]
            by_version = {m.version: m for d in s.deploy_list for m in d.migrations}
            guessed = [policy.estimate(classification(by_version[e.version])) for e in run.executions]
            assert [p[2] for p in timing.parts] == guessed


@pytest.fixture(scope="module")
def bundled() -> dict[str, Any]:
    scenario = load_scenario(
        (REPO / "examples" / "scenarios" / "gitlab-month.json").read_text(encoding="utf-8")
    )
    policy = load_policy((REPO / "examples" / "policy.yaml").read_text(encoding="utf-8"))
    return simulate(scenario, policy).to_dict()


def test_the_bundled_month_never_runs_heavy_migrations_at_peak(bundled: dict[str, Any]) -> None:
    assert bundled["policy"]["heavy_peak_executions"] == 0
    assert bundled["baselines"]["daily_manual"]["heavy_peak_executions"] > 0


def test_the_bundled_month_blocks_deploys_at_most_a_fifth_of_daily_manual(bundled: dict[str, Any]) -> None:
    daily = bundled["baselines"]["daily_manual"]["deploy_blocked_minutes"]
    assert daily > 0
    assert bundled["policy"]["deploy_blocked_minutes"] <= 0.2 * daily


def test_the_bundled_month_keeps_rollback_available_longer_than_after_each_deploy(
    bundled: dict[str, Any],
) -> None:
    after = bundled["baselines"]["after_each_deploy"]["rollback_unavailable_hours"]
    assert bundled["policy"]["rollback_unavailable_hours"] < after


def test_the_bundled_month_runs_its_backlog_with_at_most_half_the_human_actions_of_daily_manual(
    bundled: dict[str, Any],
) -> None:
    policy, daily = bundled["policy"], bundled["baselines"]["daily_manual"]
    assert policy["runs"] > 0
    assert policy["pending_at_end"] <= daily["pending_at_end"]
    assert 0 < policy["human_actions"] <= 0.5 * daily["human_actions"]


def test_the_bundled_month_is_generated_with_four_to_eight_deploys_per_weekday() -> None:
    raw = json.loads((REPO / "examples" / "scenarios" / "gitlab-month.json").read_text(encoding="utf-8"))
    s = parse_scenario(raw)
    days: dict[str, int] = {}
    for d in s.deploy_list:
        if d.environment == "gprd" or d.at.weekday() >= 5:
            continue
        days[d.at.date().isoformat()] = days.get(d.at.date().isoformat(), 0) + 1
    assert len(days) == 20 and min(days.values()) >= 4 and max(days.values()) <= 8
    assert len(s.incidents) >= 1


@pytest.mark.parametrize(("tables", "light_runs_at"), [(None, "Tue 01:20"), ([], "Mon 10:30")])
def test_a_migration_listed_with_no_tables_touches_none_and_one_without_tables_touches_unknown_ones(
    raw: Callable[..., dict[str, Any]],
    make_policy: Callable[[str], Policy],
    tables: list[str] | None,
    light_runs_at: str,
) -> None:
    index: dict[str, Any] = {"version": "1", "nature": "index_and_constraint", "duration_minutes": 20}
    if tables is not None:
        index["tables"] = tables
    queue = {"version": "2", "nature": "background_scheduling", "duration_minutes": 1, "tables": ["issues"]}
    deploy = {"at": "2026-01-05T10:00:00Z", "environment": "gstg", "sha": "a1", "duration_minutes": 30}
    s = parse_scenario(raw([{**deploy, "migrations": [index, queue]}]))
    outcome = replay(s, PolicyStrategy(make_policy("ordering: independent\n")))
    started = {e.version: e.start for r in outcome.runs for e in r.executions}
    assert f"{started['2']:%a %H:%M}" == light_runs_at  # it passes the index only when it may (else
    # it runs after it, in the same night's run)
    assert f"{started['1']:%a %H:%M}" == "Tue 01:00"
