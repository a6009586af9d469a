"""Block Kit builders: golden dicts, pointed assertions, and readable text snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import blocks
from bot.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_SNOOZE
from bot.views import (
    CommandHelp,
    DeployInProgress,
    GuardLine,
    HistoryLine,
    LearntEstimate,
    PendingGroup,
    PlanView,
    ScheduledRun,
    StatusView,
)
from scheduler.classify.model import Classification, Confidence, Database, Evidence, SizeClass
from scheduler.natures import Nature
from scheduler.notes import DiffNote, ProposalNote, RunEvent, RunNote, RunRequestReason, TextNote
from tests.support.blocks_text import assert_snapshot, render

AT = datetime(2026, 1, 9, 15, 0, tzinfo=UTC)
SHA = "a" * 40
TEMPLATE = "https://gitlab.example.com/group/app/-/blob/{sha}/{path}"


def make_migration(version: str, name: str, nature: Nature, **extra: object) -> Classification:
    fields: dict[str, object] = {
        "path": f"db/post_migrate/{version}_{name}.rb",
        "version": version,
        "name": name,
        "primary_nature": nature,
        "natures": [nature],
        "evidence": [Evidence(line=7, signal=f"helper_for_{nature}", nature=nature)],
    }
    fields.update(extra)
    return Classification.model_validate(fields)


DROP = make_migration(
    "20260104101500",
    "remove_legacy_column",
    Nature.DDL_CLEANUP,
    tables=["users"],
    table_sizes={"users": SizeClass.OVER_LIMIT},
    database_assumed=False,
)
INDEX = make_migration(
    "20260105090000",
    "add_index_on_ci_builds",
    Nature.INDEX_AND_CONSTRAINT,
    database=Database.CI,
    tables=["ci_builds"],
    table_sizes={"ci_builds": SizeClass.LARGE},
    database_assumed=False,
)
QUEUE = make_migration(
    "20260106120000", "queue_backfill", Nature.BACKGROUND_SCHEDULING, confidence=Confidence.LOW
)


def diff_note(added: list[Classification]) -> DiffNote:
    return DiffNote(
        environment="gprd",
        thread_sha=SHA,
        short_sha=SHA[:8],
        deployed_at=AT,
        added=added,
        pending_total=len(added) + 2,
        file_url_template=TEMPLATE,
    )


PROPOSAL = ProposalNote(
    environment="gprd",
    thread_sha=SHA,
    run_id="gprd-7",
    migrations=["20260104101500", "20260105090000"],
    up_to_version="20260105090000",
    nature="ddl_cleanup",
    mode="approval",
    reasons=["weekend window open until Mon 00:00", "no deploy expected for 6 h"],
    estimated_minutes=35,
    rollback_effect="after this run, packages older than aaaaaaaa can no longer be rolled back to",
    window_closes_at=datetime(2026, 1, 12, tzinfo=UTC),
)


def buttons_of(rendered: list[blocks.Block]) -> list[dict[str, object]]:
    return [el for b in rendered if b["type"] == "actions" for el in b["elements"]]


def test_proposal_offers_approve_reject_and_snooze_carrying_the_run_id() -> None:
    buttons = buttons_of(blocks.proposal_blocks(PROPOSAL))
    assert [b["action_id"] for b in buttons] == [ACTION_APPROVE, ACTION_REJECT, ACTION_SNOOZE]
    assert "Approve" in buttons[0]["text"]["text"]  # type: ignore[index]
    assert "Reject" in buttons[1]["text"]["text"]  # type: ignore[index]
    assert {b["value"] for b in buttons} == {"gprd-7"}


@pytest.mark.parametrize(
    ("override", "first"),
    [
        (None, "• requested by <@U1> with /pdm run\n"),
        ("hotfix", "• requested by <@U1> with /pdm run --now: “hotfix”\n"),
    ],
)
def test_a_requested_proposal_says_who_asked_before_the_other_reasons(
    override: str | None, first: str
) -> None:
    note = replace(PROPOSAL, requested_by="U1", request=RunRequestReason("U1", override))
    why = render(blocks.proposal_blocks(note)).split("*Why now*\n", 1)[1]
    assert why.startswith(first + "• weekend window open until Mon 00:00\n• no deploy expected for 6 h")


def test_approve_confirmation_names_the_environment_and_the_rollback_consequence() -> None:
    approve = buttons_of(blocks.proposal_blocks(PROPOSAL))[0]
    assert approve["confirm"] == {
        "title": {"type": "plain_text", "text": "Run on gprd?", "emoji": True},
        "text": {
            "type": "mrkdwn",
            "text": "Runs 2 migrations up to `20260105090000` on *gprd*.\n"
            "after this run, packages older than aaaaaaaa can no longer be rolled back to",
        },
        "confirm": {"type": "plain_text", "text": "Approve", "emoji": True},
        "deny": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "style": "primary",
    }


def test_migration_section_links_the_file_at_the_sha_with_nature_database_tables_evidence() -> None:
    assert blocks.migration_section(DROP, sha=SHA, file_url_template=TEMPLATE) == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": f"*<https://gitlab.example.com/group/app/-/blob/{SHA}/db/post_migrate/"
            "20260104101500_remove_legacy_column.rb|`20260104101500` remove_legacy_column>*\n"
            ":broom: DDL cleanup · db `main` · `users` (over_limit)\n"
            "Evidence: `helper_for_ddl_cleanup` (line 7)",
        },
    }


def test_a_migration_section_tells_a_no_op_from_one_whose_tables_were_not_found() -> None:
    no_op = make_migration("20260107000000", "noop", Nature.NO_OP, touches_no_table=True)
    no_op_text = blocks.migration_section(no_op, sha=SHA, file_url_template="")["text"]["text"]
    queue_text = blocks.migration_section(QUEUE, sha=SHA, file_url_template="")["text"]["text"]
    assert "· no table\n" in no_op_text
    assert "· no table found\n" in queue_text


def test_every_nature_has_its_own_emoji_and_label() -> None:
    assert set(blocks.NATURE_STYLE) == set(Nature)
    assert len({emoji for emoji, _ in blocks.NATURE_STYLE.values()}) == len(Nature)


def test_nature_summary_lists_one_line_per_nature_most_restrictive_first() -> None:
    summary = blocks.nature_summary([QUEUE, INDEX, DROP, DROP])
    assert summary.splitlines() == [
        ":broom: DDL cleanup: *2* (main 2)",
        ":card_index_dividers: Index / constraint: *1* (ci 1)",
        ":hourglass_flowing_sand: Background scheduling: *1* (main 1)",
    ]


def test_short_diff_fits_in_the_root_message() -> None:
    diff = blocks.diff_blocks(diff_note([DROP, INDEX, QUEUE]))
    assert diff.replies == []
    assert sum(1 for b in diff.root if b["type"] == "section" and "`2026" in b["text"]["text"]) == 3


def test_long_diff_collapses_into_a_summary_and_thread_replies() -> None:
    many = [make_migration(f"2026010{i // 10}1{i % 10:02d}000", f"m{i}", Nature.NO_OP) for i in range(40)]
    diff = blocks.diff_blocks(diff_note(many))
    assert len(diff.root) <= 6
    assert [len(r) - 1 for r in diff.replies] == [15, 15, 10]
    assert all(len(r) <= 50 for r in diff.replies)
    assert "40 migrations are listed in this thread" in render(diff.root)


def test_decided_proposal_says_who_did_what_and_has_no_buttons() -> None:
    note = RunNote(
        "gprd", SHA, "gprd-7", RunEvent.APPROVED, PROPOSAL.migrations, "20260105090000", actor="U1"
    )
    rendered = blocks.run_blocks(note, now=AT)
    assert buttons_of(rendered) == []
    assert "approved* by <@U1>" in render(rendered)


def test_starting_soon_counts_the_minutes_from_now() -> None:
    note = RunNote(
        "gstg",
        SHA,
        "gstg-3",
        RunEvent.STARTING_SOON,
        ["20260104101500"],
        "20260104101500",
        starts_at=datetime(2026, 1, 9, 15, 10, tzinfo=UTC),
    )
    assert "in *10 minutes*" in render(blocks.run_blocks(note, now=AT))


def test_the_start_of_a_part_of_an_approved_run_says_so_under_the_headline() -> None:
    note = RunNote("gstg", SHA, "gstg-12", RunEvent.STARTED, ["20260104101500"], "20260104101500")
    part = replace(note, reason="part of approved run gstg-9: the rest stays approved")
    assert "part of approved run" not in render(blocks.run_blocks(note, now=AT))
    assert render(blocks.run_blocks(part, now=AT)).splitlines()[1] == (
        "_part of approved run gstg-9: the rest stays approved_"
    )


def test_error_blocks_show_the_message_and_the_usage() -> None:
    assert blocks.error_blocks("run: missing ENV", "/pdm run ENV [--up-to VERSION]") == [
        {"type": "section", "text": {"type": "mrkdwn", "text": ":warning: run: missing ENV"}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Usage: `/pdm run ENV [--up-to VERSION]`"}],
        },
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (723, "12m 03s"), (7500, "2h 05m")],
    ids=["seconds", "minutes", "hours"],
)
def test_durations_read_like_a_human_wrote_them(seconds: int, text: str) -> None:
    assert blocks.format_seconds(seconds) == text


STATUS = StatusView(
    environment="gprd",
    pending_total=4,
    groups=[
        PendingGroup(Nature.BACKGROUND_SCHEDULING, "main", 1),
        PendingGroup(Nature.DDL_CLEANUP, "main", 2),
        PendingGroup(Nature.INDEX_AND_CONSTRAINT, "ci", 1),
    ],
    next_window_at=datetime(2026, 1, 10, tzinfo=UTC),
    action="wait",
    reasons=["ddl_cleanup may run only in: weekend"],
    guards=[
        GuardLine("deploy", True, "no deploy running"),
        GuardLine("max_db_load", True, "not configured", configured=False),
    ],
    rollback_line="last PDM run at package bbbbbbbb; rollback down to it stays possible",
    holds=["20260106120000"],
)


def test_status_states_the_total_first_then_the_split_most_restrictive_first() -> None:
    lines = render(blocks.status_blocks(STATUS)).splitlines()
    assert lines[0] == "*gprd*: *4* pending post-deploy migrations"
    assert lines[1].strip().startswith(":broom: DDL cleanup · db `main`: 2")


def test_status_shows_whose_deploy_holds_the_environment_how_old_the_mark_is_and_when_it_lapses() -> None:
    marker = DeployInProgress(42, "e0e0e0e0", timedelta(minutes=25), timedelta(hours=3, minutes=35))
    text = render(blocks.status_blocks(replace(STATUS, deploy_in_progress=marker)))
    assert (
        ":construction: A deploy is in progress: deployment 42 (`e0e0e0e0`), running for 25m 00s; "
        "the mark expires by itself in 3h 35m"
    ) in text
    assert "deploy is in progress" not in render(blocks.status_blocks(STATUS))


PLAN = PlanView(
    environment="gprd",
    at=AT,
    action="propose",
    migrations=["20260104101500"],
    up_to_version="20260104101500",
    reasons=["weekend window opens Sat 00:00"],
    next_window_at=datetime(2026, 1, 10, tzinfo=UTC),
    schedule=[ScheduledRun(datetime(2026, 1, 10, tzinfo=UTC), "propose", ["20260104101500"])],
    guards=[GuardLine("incidents", True, "not configured", configured=False)],
)
LEARNT = [
    LearntEstimate(Nature.DATA_MIGRATION, SizeClass.OVER_LIMIT, 0.36, 7),
    LearntEstimate(Nature.INDEX_AND_CONSTRAINT, None, 4.0, 5),
]


def test_learnt_estimates_are_named_by_kind_with_their_scale_and_runs() -> None:
    assert blocks.learnt_estimates_text(LEARNT[:1]) == (
        "estimates learnt from past runs: data_migration on over_limit tables ×0.36 (7 runs)"
    )
    assert "index_and_constraint on tables of unknown size ×4 (5 runs)" in blocks.learnt_estimates_text(
        LEARNT
    )
    assert "estimates learnt" not in render(blocks.plan_blocks(PLAN))


MESSAGES = {
    "diff": lambda: blocks.diff_blocks(diff_note([DROP, INDEX, QUEUE])).root,
    "diff_empty": lambda: blocks.diff_blocks(diff_note([])).root,
    "proposal": lambda: blocks.proposal_blocks(PROPOSAL),
    "run_starting_soon": lambda: blocks.run_blocks(
        RunNote(
            "gprd",
            SHA,
            "gprd-7",
            RunEvent.STARTING_SOON,
            ["20260104101500"],
            "20260104101500",
            starts_at=datetime(2026, 1, 9, 15, 15, tzinfo=UTC),
        ),
        now=AT,
    ),
    "run_started": lambda: blocks.run_blocks(
        RunNote(
            "gprd",
            SHA,
            "gprd-7",
            RunEvent.STARTED,
            ["20260104101500"],
            "20260104101500",
            pipeline_url="https://gitlab.example.com/ops/pdm/-/pipelines/991",
        ),
        now=AT,
    ),
    "run_succeeded": lambda: blocks.run_blocks(
        RunNote(
            "gprd",
            SHA,
            "gprd-7",
            RunEvent.SUCCEEDED,
            ["20260104101500", "20260105090000"],
            "20260105090000",
            pipeline_url="https://gitlab.example.com/ops/pdm/-/pipelines/991",
            duration_seconds=1384,
        ),
        now=AT,
    ),
    "run_failed": lambda: blocks.run_blocks(
        RunNote(
            "gprd",
            SHA,
            "gprd-7",
            RunEvent.FAILED,
            ["20260104101500"],
            "20260104101500",
            reason="job db:migrate failed",
            pipeline_url="https://gitlab.example.com/ops/pdm/-/pipelines/991",
        ),
        now=AT,
    ),
    "proposal_approved": lambda: blocks.run_blocks(
        RunNote(
            "gprd",
            SHA,
            "gprd-7",
            RunEvent.APPROVED,
            PROPOSAL.migrations,
            "20260105090000",
            actor="U0APPROVER",
        ),
        now=AT,
    ),
    "proposal_rejected": lambda: blocks.run_blocks(
        RunNote(
            "gprd",
            SHA,
            "gprd-7",
            RunEvent.REJECTED,
            PROPOSAL.migrations,
            "20260105090000",
            actor="U0APPROVER",
            reason="incident in progress",
        ),
        now=AT,
    ),
    "proposal_snoozed": lambda: blocks.run_blocks(
        RunNote(
            "gprd", SHA, "gprd-7", RunEvent.SNOOZED, PROPOSAL.migrations, "20260105090000", actor="U0APPROVER"
        ),
        now=AT,
    ),
    "text": lambda: blocks.text_blocks(TextNote("gprd", SHA, "pending sources disagree: 2 migrations")),
    "help": lambda: blocks.help_blocks(
        [
            CommandHelp("/pdm status [ENV]", "pending count", False),
            CommandHelp("/pdm run ENV [--up-to VERSION]", "request a run", True),
        ]
    ),
    "error": lambda: blocks.error_blocks(
        "unknown environment `gprd2`; known: gstg, gprd", "/pdm status [ENV]"
    ),
    "status": lambda: blocks.status_blocks(STATUS),
    "plan": lambda: blocks.plan_blocks(PLAN),
    "plan_learnt": lambda: blocks.plan_blocks(replace(PLAN, learnt=LEARNT)),
    "history": lambda: blocks.history_blocks(
        [
            HistoryLine(
                "gprd-7",
                "gprd",
                "success",
                "20260105090000",
                2,
                AT,
                datetime(2026, 1, 9, 15, 23, tzinfo=UTC),
                "U0APPROVER",
                "https://gitlab.example.com/ops/pdm/-/pipelines/991",
            ),
        ],
        "gprd",
    ),
    "history_empty": lambda: blocks.history_blocks([], None),
    "explain": lambda: blocks.explain_blocks(DROP),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_wording_matches_its_reviewed_snapshot(name: str) -> None:
    assert_snapshot(name, render(MESSAGES[name]()))
