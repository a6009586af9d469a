"""Block Kit builders: pure functions from notes and views to lists of block dicts.

Nothing else in the project builds Slack JSON. Action ids live in one constants block and are shared with
`handlers.actions`; the button `value` is always the run id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.views import (
    CommandHelp,
    DeployInProgress,
    GuardLine,
    HistoryLine,
    LearntEstimate,
    PlanView,
    StatusView,
)
from scheduler.classify.model import Classification, Confidence
from scheduler.natures import Nature, by_restrictiveness
from scheduler.notes import (
    ApprovalRefusal,
    ApprovalRefusedNote,
    DiffNote,
    ManualWaitNote,
    Notice,
    OverrunNote,
    PausedNote,
    PendingProblemNote,
    ProposalNote,
    RunEvent,
    RunNote,
    RunRequestAnswer,
    RunRequestOutcome,
    RunRequestReason,
    SecondApproverNote,
    TextNote,
    UnknownPipelineNote,
)
from scheduler.policy import windows

Block = dict[str, Any]

# --- action ids (shared with handlers.actions) -------------------------------------------------------
ACTION_APPROVE = "pdm_approve"
ACTION_REJECT = "pdm_reject"
ACTION_SNOOZE = "pdm_snooze"
PROPOSAL_BLOCK_ID = "pdm_proposal_actions"
PROPOSAL_ACTIONS = (ACTION_APPROVE, ACTION_REJECT, ACTION_SNOOZE)

MAX_INLINE_MIGRATIONS = 10
"""A diff with more migrations keeps only its summary in the root message; the rest goes in replies."""
MIGRATIONS_PER_REPLY = 15

NATURE_STYLE: dict[Nature, tuple[str, str]] = {
    Nature.UNKNOWN: (":question:", "Unknown"),
    Nature.DDL_CLEANUP: (":broom:", "DDL cleanup"),
    Nature.DATA_MIGRATION: (":truck:", "Data migration"),
    Nature.INDEX_AND_CONSTRAINT: (":card_index_dividers:", "Index / constraint"),
    Nature.BACKGROUND_SCHEDULING: (":hourglass_flowing_sand:", "Background scheduling"),
    Nature.NO_OP: (":white_circle:", "No-op"),
}

ACTION_LABELS = {
    "execute": ":arrow_forward: run now",
    "propose": ":raising_hand: propose for approval",
    "wait": ":hourglass: wait",
    "blocked": ":no_entry: blocked",
    "idle": ":zzz: nothing to run",
}


# --- small helpers -----------------------------------------------------------------------------------
def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str) -> Block:
    """A section block with mrkdwn text (cut to Slack's 3000-character limit)."""
    return {"type": "section", "text": _mrkdwn(text if len(text) <= 3000 else text[:2990] + " …")}


def context(*texts: str) -> Block:
    """A context block of mrkdwn elements."""
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts]}


def header(text: str) -> Block:
    """A header block (plain text, at most 150 characters)."""
    return {"type": "header", "text": _plain(text[:150])}


def divider() -> Block:
    """A divider block."""
    return {"type": "divider"}


def nature_badge(nature: Nature) -> str:
    """The emoji and label used for `nature` everywhere."""
    emoji, label = NATURE_STYLE[nature]
    return f"{emoji} {label}"


def slack_date(at: datetime) -> str:
    """A Slack date token: each reader sees it in their own time zone; the fallback is UTC ISO 8601."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at.isoformat()}>"


def format_seconds(seconds: int) -> str:
    """`45s`, `12m 03s`, `2h 05m`."""
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _versions(migrations: Sequence[object]) -> str:
    count = len(migrations)
    return f"{count} migration{'s' if count != 1 else ''}"


def _user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "pdm-bot"


# --- migration diff ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffMessages:
    """The root message of a package thread and the replies that carry the rest of a long diff."""

    root: list[Block]
    replies: list[list[Block]]
    text: str


def nature_summary(classifications: Sequence[Classification]) -> str:
    """One line per nature, most restrictive first: `:broom: DDL cleanup: 2 (main 1, ci 1)`."""
    by_nature: dict[Nature, Counter[str]] = {}
    for item in classifications:
        by_nature.setdefault(item.primary_nature, Counter())[str(item.database)] += 1
    lines = []
    for nature in by_restrictiveness(by_nature):
        databases = by_nature[nature]
        split = ", ".join(f"{db} {n}" for db, n in sorted(databases.items()))
        lines.append(f"{nature_badge(nature)}: *{sum(databases.values())}* ({split})")
    return "\n".join(lines)


def _file_link(template: str, sha: str, item: Classification) -> str:
    label = f"`{item.version or '?'}` {item.name or item.path}"
    if not template:
        return label
    url = template.replace("{sha}", sha).replace("{path}", item.path)
    return f"<{url}|{label}>"


def _tables(item: Classification) -> str:
    if not item.tables:
        return "no table" if item.touches_no_table else "no table found"
    parts = []
    for table in item.tables:
        size = item.table_sizes.get(table)
        parts.append(f"`{table}` ({size})" if size else f"`{table}`")
    return ", ".join(parts)


def migration_section(item: Classification, *, sha: str, file_url_template: str) -> Block:
    """One migration of a diff: link, nature, database, tables, deciding evidence."""
    database = f"db `{item.database}`" + (" (assumed)" if item.database_assumed else "")
    lines = [
        f"*{_file_link(file_url_template, sha, item)}*",
        f"{nature_badge(item.primary_nature)}"
        + (" (declared)" if item.declared else "")
        + f" · {database} · {_tables(item)}",
    ]
    deciding = [e for e in item.evidence if e.nature == item.primary_nature] or item.evidence
    if deciding:
        lines.append(
            "Evidence: "
            + ", ".join(f"`{e.signal}` (line {e.line})" for e in deciding[:4])
            + (f" and {len(deciding) - 4} more" if len(deciding) > 4 else "")
        )
    if item.confidence != Confidence.HIGH:
        lines.append(f"Confidence: {item.confidence}")
    if item.error:
        lines.append(f":warning: {item.error}")
    return section("\n".join(lines))


def diff_blocks(note: DiffNote) -> DiffMessages:
    """The migration diff of a deployed package: root message, plus replies when it is long."""
    added = list(note.added)
    title = f"Post-deploy migrations in {note.short_sha} on {note.environment}"
    root: list[Block] = [
        header(title),
        context(
            f"Deployed {slack_date(note.deployed_at)}",
            f"{_versions(added)} added · {note.pending_total} pending on {note.environment} in total",
        ),
    ]
    if added:
        root.append(section(nature_summary(added)))
    else:
        root.append(section("No new post-deploy migration in this package."))
    extra = []
    if note.deleted:
        extra.append("Deleted: " + ", ".join(f"`{p}`" for p in note.deleted))
    if note.modified:
        extra.append("Modified after deploy: " + ", ".join(f"`{p}`" for p in note.modified))
    if extra:
        root.append(section(":warning: " + "\n".join(extra)))
    if note.out_of_order:
        root.append(section(":twisted_rightwards_arrows: " + "\n".join(note.out_of_order)))
    sections = [
        migration_section(item, sha=note.thread_sha, file_url_template=note.file_url_template)
        for item in added
    ]
    replies: list[list[Block]] = []
    if len(sections) <= MAX_INLINE_MIGRATIONS:
        root.extend([divider(), *sections] if sections else [])
    else:
        root.append(context(f"The {len(sections)} migrations are listed in this thread."))
        for start in range(0, len(sections), MIGRATIONS_PER_REPLY):
            chunk = sections[start : start + MIGRATIONS_PER_REPLY]
            end = start + len(chunk)
            replies.append([context(f"Migrations {start + 1}–{end} of {len(sections)}"), *chunk])
    return DiffMessages(root=root, replies=replies, text=f"{title}: {_versions(added)}")


# --- proposal ----------------------------------------------------------------------------------------
def _proposal_summary(note: ProposalNote) -> str:
    return (
        f"Run *{_versions(note.migrations)}* on *{note.environment}* up to `{note.up_to_version}`"
        f" · {nature_badge(Nature(note.nature))} · mode {note.mode}"
    )


def _request_reason(request: RunRequestReason) -> str:
    """`requested by <@U1> with /pdm run` (`--now: “REASON”` when it overrides the windows)."""
    line = f"requested by {_user(request.user)} with /pdm run"
    return line if request.override is None else f"{line} --now: “{request.override}”"


def proposal_blocks(note: ProposalNote) -> list[Block]:
    """A batch proposed for approval, with Approve (confirmed) / Reject / Snooze buttons."""
    reasons = note.reasons if note.request is None else [_request_reason(note.request), *note.reasons]
    why = "\n".join(f"• {reason}" for reason in reasons) or "• requested"
    facts = [
        f"Estimated duration: ~{note.estimated_minutes} min",
        f"Rollback: {note.rollback_effect}",
    ]
    if note.window_closes_at is not None:
        facts.append(f"Window closes {slack_date(note.window_closes_at)}")
    if note.requested_by:
        facts.append(f"Requested by {_user(note.requested_by)}")
    confirm = {
        "title": _plain(f"Run on {note.environment}?"[:100]),
        "text": _mrkdwn(
            f"Runs {_versions(note.migrations)} up to `{note.up_to_version}` on *{note.environment}*.\n"
            f"{note.rollback_effect}"
        ),
        "confirm": _plain("Approve"),
        "deny": _plain("Cancel"),
        "style": "primary",
    }
    return [
        header(f"Proposal: post-deploy migrations on {note.environment}"),
        section(_proposal_summary(note)),
        section(f"*Why now*\n{why}"),
        section("`" + "`, `".join(note.migrations) + "`"),
        context(*facts),
        {
            "type": "actions",
            "block_id": PROPOSAL_BLOCK_ID,
            "elements": [
                {
                    "type": "button",
                    "action_id": ACTION_APPROVE,
                    "text": _plain("Approve"),
                    "style": "primary",
                    "value": note.run_id,
                    "confirm": confirm,
                },
                {
                    "type": "button",
                    "action_id": ACTION_REJECT,
                    "text": _plain("Reject"),
                    "style": "danger",
                    "value": note.run_id,
                },
                {
                    "type": "button",
                    "action_id": ACTION_SNOOZE,
                    "text": _plain("Snooze to next window"),
                    "value": note.run_id,
                },
            ],
        },
        context(f"Run `{note.run_id}`"),
    ]


# --- run announcements and decisions -----------------------------------------------------------------
_DECIDED = {
    RunEvent.APPROVED: (":white_check_mark:", "approved"),
    RunEvent.REJECTED: (":no_entry_sign:", "rejected"),
    RunEvent.SNOOZED: (":zzz:", "snoozed until the next window"),
    RunEvent.EXPIRED: (":hourglass:", "expired"),
    RunEvent.SUPERSEDED: (":twisted_rightwards_arrows:", "superseded"),
}


def run_blocks(note: RunNote, *, now: datetime) -> list[Block]:
    """An announcement (starting soon, started, finished, failed) or a decided-on proposal (no buttons)."""
    what = f"{_versions(note.migrations)} up to `{note.up_to_version}` on *{note.environment}*"
    pipeline = f" · <{note.pipeline_url}|pipeline>" if note.pipeline_url else ""
    if note.event in _DECIDED:
        emoji, verb = _DECIDED[note.event]
        text = f"{emoji} Proposal to run {what}: *{verb}* by {_user(note.actor)}"
        if note.reason:
            text += f"\n_{note.reason}_"
    elif note.event == RunEvent.STARTING_SOON:
        starts = note.starts_at or now
        minutes = max(0, round((starts - now).total_seconds() / 60))
        text = (
            f":alarm_clock: Running {what} in *{minutes} minute{'s' if minutes != 1 else ''}*"
            f" ({slack_date(starts)}). `/pdm pause {note.environment}` stops it."
        )
        if note.reason:
            text += f"\n_{note.reason}_"
    elif note.event == RunEvent.STARTED:
        text = f":arrow_forward: Started {what}{pipeline}"
        if note.reason:
            text += f"\n_{note.reason}_"
    elif note.event == RunEvent.SUCCEEDED:
        took = f" in {format_seconds(note.duration_seconds)}" if note.duration_seconds is not None else ""
        text = f":white_check_mark: Finished {what}{took}{pipeline}"
    else:
        verb = "failed" if note.event == RunEvent.FAILED else "was canceled"
        text = f":x: Run of {what} {verb}: {note.reason or 'no reason given'}{pipeline}"
    return [section(text), context(f"Run `{note.run_id}`")]


def notice_text(note: Notice) -> str:
    """The words of a notice in a package thread (mrkdwn)."""
    match note:
        case TextNote():
            return note.text
        case PendingProblemNote():
            paused = f"; {note.environment} is paused until a human looks" if note.paused else ""
            return f":rotating_light: {note.problem}{paused}"
        case OverrunNote():
            retry = windows.format_duration(timedelta(seconds=note.retry_in_seconds))
            return (
                f":warning: the evaluation of {note.environment} {note.error} "
                "(PDM_EVALUATION_BUDGET_SECONDS) and was aborted: nothing was decided; "
                f"it is retried in {retry}. Check the policy's windows with `pdm-bot check-config`."
            )
        case ManualWaitNote():
            start = f"from {slack_date(note.starts_at)}" if note.starts_at else "now"
            until = f" until {slack_date(note.closes_at)}" if note.closes_at else ""
            again = "; asked again before the next one if no `/pdm run` comes by then" if until else ""
            return (
                f":raised_hand: migration {note.version} ({note.nature}, manual) waits for "
                f"`/pdm run {note.environment}` — everything after it waits too "
                f"({note.behind} more pending). It may run {start} in its window{until}{again}"
            )
        case PausedNote():
            target = note.environment or "all environments"
            return (
                f":double_vertical_bar: <@{note.actor}> paused {target}: {note.reason or 'no reason given'}"
            )
        case UnknownPipelineNote():
            origin = f"run {note.run_id}" if note.run_id else "someone outside pdm-bot"
            return (
                f":warning: PDM pipeline {note.pipeline_id} on {note.environment} ({note.status}) "
                f"was started by {origin} and is not recorded as that run's pipeline: {note.web_url}"
            )
        case ApprovalRefusedNote():
            return _refusal_text(note)
        case SecondApproverNote():
            again = "already approved" if note.repeated else "approved"
            return (
                f"<@{note.actor}> {again} {note.run_id}; two-person rule ({', '.join(note.natures)}): "
                "a second, different approver is needed."
            )


def _refusal_text(note: ApprovalRefusedNote) -> str:
    match note.refusal:
        case ApprovalRefusal.SUPERSEDED:
            return (
                f":no_entry: <@{note.actor}>: approval of {note.run_id} refused as stale: it was superseded "
                f"by {note.detail}; approve that one instead."
            )
        case ApprovalRefusal.TWO_PERSON:
            return (
                f":no_entry: <@{note.actor}>: two-person rule ({note.detail}): the requester of "
                f"{note.run_id} may not approve it."
            )
        case ApprovalRefusal.STALE:
            return f"approval of {note.run_id} refused: {note.detail}; a fresh proposal follows if one is due"


def answer_text(answer: RunRequestAnswer) -> str:
    """The words of the answer to a `/pdm run`."""
    env = answer.environment
    match answer.outcome:
        case RunRequestOutcome.PROPOSED:
            return (
                f"Run {answer.run_id} of {answer.count} migrations (up to {answer.up_to}) proposed "
                "in the release thread."
            )
        case RunRequestOutcome.REFUSED:
            return answer.refusal
        case RunRequestOutcome.BUSY:
            return f"Run {answer.run_id} on {env} is {answer.status}; wait for it to end."
        case RunRequestOutcome.NOTHING:
            return f"Nothing to run on {env}" + (f" up to {answer.up_to}" if answer.up_to else "") + "."
        case RunRequestOutcome.NO_PACKAGE:
            return f"No deployed package recorded for {env}."


def text_blocks(note: Notice) -> list[Block]:
    """A notice of the worker in its thread."""
    return [section(notice_text(note))]


# --- command answers ---------------------------------------------------------------------------------
def help_blocks(commands: Sequence[CommandHelp]) -> list[Block]:
    """`/pdm help`, generated from the command table."""
    reads = [c for c in commands if not c.mutating]
    writes = [c for c in commands if c.mutating]
    return [
        section("*`/pdm` — post-deploy migrations*"),
        section("*Everyone*\n" + "\n".join(f"`{c.usage}` — {c.summary}" for c in reads)),
        section("*Approvers only*\n" + "\n".join(f"`{c.usage}` — {c.summary}" for c in writes)),
    ]


def error_blocks(message: str, usage: str | None = None) -> list[Block]:
    """A refusal or a bad-input answer, with the usage line when there is one."""
    blocks = [section(f":warning: {message}")]
    if usage:
        blocks.append(context(f"Usage: `{usage}`"))
    return blocks


def _guard_lines(guards: Sequence[GuardLine]) -> str:
    lines = []
    for guard in guards:
        mark = ":white_check_mark:" if guard.ok else ":no_entry:"
        if not guard.configured:
            mark = ":heavy_minus_sign:"
        lines.append(f"{mark} {guard.name}: {guard.detail}")
    return "\n".join(lines) or "no guard configured"


def status_blocks(view: StatusView) -> list[Block]:
    """`/pdm status ENV`: total pending, then the split by nature and database, then the rest."""
    lines = [
        f"*{view.environment}*: *{view.pending_total}* pending post-deploy migration"
        + ("s" if view.pending_total != 1 else "")
    ]
    for group in sorted(view.groups, key=lambda g: (-g.nature.rank, g.database)):
        lines.append(f"  {nature_badge(group.nature)} · db `{group.database}`: {group.count}")
    blocks = [section("\n".join(lines))]
    window = slack_date(view.next_window_at) if view.next_window_at else "none scheduled"
    state = [f"Decision: {ACTION_LABELS.get(view.action, view.action)}", f"Next window: {window}"]
    if view.reasons:
        state.append("Why: " + "; ".join(view.reasons))
    if view.paused:
        state.append(f":double_vertical_bar: Paused: {view.paused}")
    if view.holds:
        state.append("Held: " + ", ".join(f"`{v}`" for v in view.holds))
    if view.active_runs:
        label = "Active runs" if len(view.active_runs) > 1 else "Active run"
        state.append(f"{label}: " + ", ".join(f"`{r}`" for r in view.active_runs))
    if view.deploy_in_progress:
        state.append(deploy_in_progress_line(view.deploy_in_progress))
    if view.expected_deploys:
        state.append(view.expected_deploys.line(slack_date))
    blocks.append(section("\n".join(state)))
    blocks.append(section("*Guards*\n" + _guard_lines(view.guards)))
    blocks.append(context(f"Rollback line: {view.rollback_line}"))
    return blocks


def deploy_in_progress_line(marker: DeployInProgress) -> str:
    """`/pdm status`: whose deploy holds the environment, since when, and when the mark lapses."""
    line = (
        f":construction: A deploy is in progress: deployment {marker.deployment_id} "
        f"(`{marker.short_sha}`), running for {format_seconds(int(marker.age.total_seconds()))}"
    )
    if marker.expires_in is not None:
        line += f"; the mark expires by itself in {format_seconds(int(marker.expires_in.total_seconds()))}"
    return line


def plan_blocks(view: PlanView) -> list[Block]:
    """`/pdm plan ENV`: the decision at `view.at`, why, and the projected runs."""
    now = f"*{view.environment}* at {slack_date(view.at)}: {ACTION_LABELS.get(view.action, view.action)}"
    if view.migrations:
        now += f" — {_versions(view.migrations)} up to `{view.up_to_version}`"
    blocks = [section(now)]
    if view.reasons:
        blocks.append(section("*Why*\n" + "\n".join(f"• {r}" for r in view.reasons)))
    if view.next_window_at:
        blocks.append(context(f"Next window: {slack_date(view.next_window_at)}"))
    if view.expected_deploys:
        blocks.append(context(view.expected_deploys.line(slack_date)))
    if view.learnt:
        blocks.append(context(learnt_estimates_text(view.learnt)))
    if view.schedule:
        rows = [
            f"{slack_date(run.at)} · {run.action} · {_versions(run.migrations)}"
            + (f" up to `{run.migrations[-1]}`" if run.migrations else "")
            for run in view.schedule
        ]
        blocks.append(section("*Projected runs*\n" + "\n".join(rows)))
    else:
        blocks.append(section("*Projected runs*\nnone"))
    blocks.append(section("*Guards*\n" + _guard_lines(view.guards)))
    return blocks


def learnt_estimates_text(learnt: Sequence[LearntEstimate]) -> str:
    """The estimates the environment's past runs scaled, e.g. `estimates learnt from past runs:
    data_migration on over_limit tables ×0.36 (7 runs)`."""
    kinds = [
        f"{e.nature.value} on {f'{e.size.value} tables' if e.size else 'tables of unknown size'} "
        f"×{f'{e.scale:.2f}'.rstrip('0').rstrip('.')} ({e.runs} runs)"
        for e in learnt
    ]
    return "estimates learnt from past runs: " + "; ".join(kinds)


def history_blocks(lines: Sequence[HistoryLine], environment: str | None) -> list[Block]:
    """`/pdm history [ENV]`: most recent runs first."""
    where = environment or "all environments"
    if not lines:
        return [section(f"No PDM run recorded for {where}.")]
    rows = []
    for line in lines:
        when = slack_date(line.finished_at or line.requested_at)
        link = f" · <{line.pipeline_url}|pipeline>" if line.pipeline_url else ""
        by = f" · by {_user(line.actor)}" if line.actor else ""
        rows.append(
            f"{when} · *{line.environment}* · {line.status} · {line.migration_count} up to "
            f"`{line.up_to_version}`{by}{link}"
        )
    return [section(f"*Recent runs — {where}*"), section("\n".join(rows))]


def explain_blocks(item: Classification) -> list[Block]:
    """`/pdm explain VERSION`: why a migration got its nature."""
    natures = ", ".join(nature_badge(n) for n in by_restrictiveness(item.natures))
    lines = [
        f"*`{item.version}` {item.name or item.path}*",
        f"Primary nature: {nature_badge(item.primary_nature)}"
        + (" — declared with `# pdm: nature=`" if item.declared else " — inferred")
        + f", confidence {item.confidence}",
        f"All natures found: {natures or 'none'}",
        f"Database: `{item.database}`"
        + (" (assumed)" if item.database_assumed else "")
        + f" · tables: {_tables(item)}",
    ]
    if item.resolution:
        lines.append(f"How it was decided: {item.resolution}")
    evidence = "\n".join(
        f"line {e.line}: `{e.signal}`"
        + (f" → {e.nature}" if e.nature else "")
        + (f" ({e.note})" if e.note else "")
        for e in item.evidence
    )
    blocks = [section("\n".join(lines)), section("*Evidence*\n" + (evidence or "none"))]
    if item.error:
        blocks.append(section(f":warning: {item.error}"))
    return blocks


MAX_PENDING_LISTED = 40


def pending_blocks(
    environment: str, items: Sequence[tuple[Classification, str]], file_url_template: str
) -> list[Block]:
    """`/pdm diff ENV`: every pending migration (with the SHA of its package), summarised by nature."""
    if not items:
        return [section(f"*{environment}*: nothing pending.")]
    classifications = [item for item, _ in items]
    result = [
        section(
            f"*{environment}*: *{_versions(classifications)}* pending\n{nature_summary(classifications)}"
        ),
        divider(),
    ]
    for item, sha in items[:MAX_PENDING_LISTED]:
        result.append(migration_section(item, sha=sha, file_url_template=file_url_template))
    if len(items) > MAX_PENDING_LISTED:
        result.append(
            context(
                f"and {len(items) - MAX_PENDING_LISTED} more; `/pdm plan {environment}` shows the batches"
            )
        )
    return result
