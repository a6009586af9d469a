"""Estimates learnt from past runs: `learn_scales` on hand-built timings, and `decide` fitting a run into a
gap that only the learnt estimate makes room for."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from scheduler.classify.model import SizeClass
from scheduler.natures import Nature
from scheduler.plan import decide
from scheduler.policy.decision import Action, Approval, DeployedPackage, EnvState, PendingMigration
from scheduler.policy.learnt import LearntScale, RunTiming, learn_scales
from tests.support.planning import classified
from tests.unit.policy.test_decide import DEPLOYED, SATURDAY_03, policy_with

OVER_LIMIT_DATA = (Nature.DATA_MIGRATION, SizeClass.OVER_LIMIT)
GUESS = timedelta(hours=4)  # the default estimate of a data migration on an over-limit table
VERSION = "20260105000000"


def run(took: timedelta, *parts: tuple[Nature, SizeClass | None, timedelta]) -> RunTiming:
    return RunTiming(SATURDAY_03, took, parts or ((*OVER_LIMIT_DATA, GUESS),))


def ratios(*values: float) -> list[RunTiming]:
    return [run(GUESS * v) for v in values]


def test_fewer_than_five_runs_of_a_kind_teach_nothing() -> None:
    assert learn_scales(ratios(0.5, 0.5, 0.5, 0.5)) == {}
    assert learn_scales(ratios(0.5, 0.5, 0.5, 0.5, 0.5)) == {OVER_LIMIT_DATA: LearntScale(0.5, 5)}


def test_mixed_runs_measure_nothing() -> None:
    half_and_half = (
        (*OVER_LIMIT_DATA, timedelta(hours=2)),
        (Nature.INDEX_AND_CONSTRAINT, SizeClass.LARGE, timedelta(hours=2)),
    )
    assert learn_scales([run(timedelta(hours=1), *half_and_half) for _ in range(10)]) == {}


def test_a_run_mostly_of_one_kind_measures_it_against_its_whole_estimate() -> None:
    dominated = ((*OVER_LIMIT_DATA, timedelta(hours=4)), (Nature.NO_OP, None, timedelta(hours=1)))  # 80 %
    learnt = learn_scales([run(timedelta(hours=2, minutes=30), *dominated) for _ in range(5)])
    assert learnt == {OVER_LIMIT_DATA: LearntScale(0.5, 5)}  # 2 h 30 over the whole 5 h, not over 4 h
    under = ((*OVER_LIMIT_DATA, timedelta(hours=4)), (Nature.NO_OP, None, timedelta(hours=1, minutes=1)))
    assert learn_scales([run(timedelta(hours=1), *under) for _ in range(5)]) == {}  # under 80 %: mixed


def test_the_scale_is_the_ratio_nine_in_ten_of_the_last_twenty_runs_stayed_within() -> None:
    assert learn_scales(ratios(*[0.5] * 9, 3.0)) == {OVER_LIMIT_DATA: LearntScale(0.5, 10)}
    assert learn_scales(ratios(*[0.5] * 8, 3.0, 3.0)) == {OVER_LIMIT_DATA: LearntScale(3.0, 10)}
    assert learn_scales(ratios(*[0.5] * 18, 3.0, 3.0)) == {OVER_LIMIT_DATA: LearntScale(0.5, 20)}
    older_slow_runs = ratios(*[3.0] * 5, *[0.5] * 20)
    assert learn_scales(older_slow_runs) == {OVER_LIMIT_DATA: LearntScale(0.5, 20)}


def test_the_scale_is_bounded_to_a_quarter_and_four_times_the_guess() -> None:
    assert learn_scales(ratios(*[0.1] * 5)) == {OVER_LIMIT_DATA: LearntScale(0.25, 5)}
    assert learn_scales(ratios(*[6.0] * 5)) == {OVER_LIMIT_DATA: LearntScale(4.0, 5)}


def test_five_one_hour_runs_fit_a_four_hour_guess_into_a_ninety_minute_gap() -> None:
    policy = policy_with(deploy_schedule="'30 4 * * *'")  # the next deploy at 04:30: 1 h 30 from 03:00
    c = classified(VERSION, Nature.DATA_MIGRATION, tables=["ci_builds"])
    assert (c.primary_nature, policy.size_of(c), policy.estimate(c)) == (*OVER_LIMIT_DATA, GUESS)
    unlearnt = EnvState(
        "gstg",
        (PendingMigration(VERSION, c, "old", DEPLOYED),),
        packages=(DeployedPackage("new", DEPLOYED),),
        approval=Approval(VERSION, ("U1",)),
    )
    past = tuple(
        RunTiming(SATURDAY_03 - timedelta(days=7), timedelta(minutes=m), ((*OVER_LIMIT_DATA, GUESS),))
        for m in (55, 58, 60, 62, 65)
    )

    before = decide(unlearnt, policy, SATURDAY_03)
    after = decide(replace(unlearnt, run_timings=past), policy, SATURDAY_03)

    assert before.action is Action.WAIT and any("04:30" in r for r in before.reasons)
    assert after.action is Action.EXECUTE and after.migrations == [VERSION]
    assert after.estimated_duration == timedelta(minutes=65) + policy.durations.overhead  # the slowest run


def test_learning_as_runs_finish_one_by_one_matches_learning_from_scratch() -> None:
    # two environments' runs learnt in turns, each time one more finished and, past 25, the oldest dropped
    index = (Nature.INDEX_AND_CONSTRAINT, SizeClass.LARGE)
    staging: tuple[RunTiming, ...] = ()
    production: tuple[RunTiming, ...] = ()
    for i in range(60):
        staging = (*staging[-24:], run(GUESS * (0.3 + (i % 7) / 5)))
        took = timedelta(minutes=5 + 3 * (i % 9))
        production = (*production[-24:], run(took, (*index, timedelta(minutes=15))))
        for timings in (staging, production):
            copies = [replace(t) for t in timings]  # new objects: nothing learnt before is reused
            assert learn_scales(timings) == learn_scales(copies)
    assert learn_scales(staging)[OVER_LIMIT_DATA].runs == 20
    assert learn_scales(production)[index].runs == 20
