"""`pdm-bot plan`: classify the post-deploy migrations added between two revisions of a local git
checkout and show what the policy would do with them (offline: no Slack, no GitLab)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import TypeAdapter, ValidationError

from bot import local_repo
from bot.cli_support import emit_json, guarded
from scheduler.classify import classify_documented
from scheduler.classify.tabledocs import DOCS_DIR, read_table_docs
from scheduler.errors import InputError
from scheduler.next_deploy import next_deploy
from scheduler.plan import decide, project
from scheduler.policy.decision import Decision, DeployedPackage, EnvState, PendingMigration, ProjectedRun
from scheduler.policy.model import Policy, load_policy
from scheduler.policy.windows import format_duration, format_time
from scheduler.settings import Settings
from scheduler.simulate.scenario import HistoryDeploy
from scheduler.validation import error_line

PLAN_HORIZON = timedelta(days=90)
_DEPLOYS = TypeAdapter(list[HistoryDeploy])


def parse_at(value: str | None) -> datetime:
    """`--at` as an aware instant (naive means UTC); now when absent."""
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--at: not an ISO 8601 date-time: {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def read_pending(repo: Path, from_rev: str, to_rev: str, policy: Policy, at: datetime) -> EnvState:
    """Pending migrations of the range, all brought by the package at `to_rev`, deployed at
    min(commit time of `to_rev`, `at`); table sizes and schemas from `db/docs` at `to_rev`, the policy's
    `table_sizes` taking precedence."""
    base, head = local_repo.resolve(repo, from_rev), local_repo.resolve(repo, to_rev)
    deployed_at = min(local_repo.commit_time(repo, head), at)
    paths = local_repo.added_post_migrations(repo, base, head)
    docs_files = local_repo.files_under(repo, head, DOCS_DIR) if paths else {}
    docs = read_table_docs(t.decode("utf-8", "replace") for p, t in docs_files.items() if p.endswith(".yml"))
    pending = []
    for path in paths:
        source = local_repo.file_at(repo, head, path)
        result = classify_documented(source, path, docs, policy.table_sizes)
        version = result.version or Path(path).name.split("_", 1)[0]
        pending.append(PendingMigration(version, result, head, deployed_at))
    return EnvState(environment="", pending=tuple(pending), packages=(DeployedPackage(head, deployed_at),))


def read_deploys(path: Path, policy: Policy, env: str) -> tuple[datetime, ...]:
    """`--deploys FILE`: the recorded deploy starts of `env`, oldest first, from a JSON list of
    `{"at": ISO 8601, "environment": NAME}` (the shape of a scenario's `history`)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"--deploys: not JSON: {exc.msg} (line {exc.lineno})") from None
    try:
        entries = _DEPLOYS.validate_python(raw)
    except ValidationError as exc:
        raise InputError(f"--deploys: {error_line(exc.errors()[0], root='the file')}") from None
    names = {e.name for e in policy.environments}
    for i, entry in enumerate(entries):
        if entry.environment not in names:
            raise InputError(
                f"--deploys: [{i}].environment: {entry.environment!r} is not an environment of the policy"
            )
    return tuple(sorted(e.at for e in entries if e.environment == env))


def upstream_projection(state: EnvState, policy: Policy, env: str, at: datetime) -> dict[str, datetime]:
    """Offline there is no run history: assume the upstream environments run as projected."""
    spec = policy.environment(env)
    if spec.requires is None:
        return {}
    upstream = replace(
        state,
        environment=spec.requires,
        upstream_successes=upstream_projection(state, policy, spec.requires, at),
    )
    return {
        v: run.at + run.estimated_duration
        for run in project(upstream, policy, at, PLAN_HORIZON)
        for v in run.migrations
    }


def render(
    state: EnvState, decision: Decision, schedule: list[ProjectedRun], policy: Policy, at: datetime
) -> str:
    """The readable report: pending table, decision with reasons and guards, projected schedule."""
    zone = policy.zone
    spec = policy.environment(state.environment)
    lines = [f"Environment {state.environment} at {format_time(at, zone)}"]
    if spec.requires:
        lines.append(f"(offline: assumes {spec.requires} runs its migrations as projected)")
    lines += ["", f"Pending post-deploy migrations: {len(state.pending)}"]
    lines.append(f"  {'VERSION':<15} {'NATURE':<22} {'MODE':<9} {'EST':>5}  {'WINDOWS':<28} NAME")
    for m in sorted(state.pending, key=lambda p: p.version):
        c = m.classification
        entry = policy.nature_policy(c.primary_nature)
        est = format_duration(policy.estimate(c))
        name = (c.name or c.path) + (f"  [error: {c.error}]" if c.error else "")
        lines.append(
            f"  {m.version:<15} {c.primary_nature.value:<22} {entry.mode.value:<9} {est:>5}  "
            f"{', '.join(entry.windows):<28} {name}"
        )
    d = decision
    batch = f" {len(d.migrations)} migration(s) up to {d.up_to_version}" if d.migrations else ""
    lines += ["", f"Decision: {d.action.value.upper()}{batch}"]
    if d.migrations:
        lines.append(
            f"  mode {d.mode.value if d.mode else '-'}, nature {d.nature.value if d.nature else '-'}, "
            f"estimate {format_duration(d.estimated_duration)}, window {d.window or '-'}"
        )
    if d.next_window_at:
        lines.append(f"  next window: {format_time(d.next_window_at, zone)}")
    lines += [f"  - {reason}" for reason in d.reasons]
    lines.append("Guards:")
    lines += [f"  {'ok ' if r.ok else 'NO '} {r.name}: {r.reason}" for r in d.guards]
    lines += ["", next_deploy(state, policy, at).line(lambda t: format_time(t, zone))]
    lines += ["", f"Projected schedule (next {PLAN_HORIZON.days} days, if nothing else changes):"]
    for run in schedule:
        lines.append(
            f"  {format_time(run.at, zone)}  {run.action.value:<8} {len(run.migrations):>3} up to "
            f"{run.up_to_version}  {run.nature.value:<22} {run.mode.value:<9} "
            f"{format_duration(run.estimated_duration):>6}  {run.window or ''}"
        )
    scheduled = sum(len(run.migrations) for run in schedule)
    if scheduled < len(state.pending):
        first = sorted(state.pending, key=lambda p: p.version)[scheduled]
        mode = policy.nature_policy(first.classification.primary_nature).mode.value
        lines.append(
            f"  {len(state.pending) - scheduled} not scheduled: {first.version} "
            f"({first.classification.primary_nature.value}, {mode}) and everything after it"
        )
    return "\n".join(lines)


def plan_json(
    state: EnvState, decision: Decision, schedule: list[ProjectedRun], policy: Policy, at: datetime
) -> dict[str, Any]:
    """The `plan --json` contract, with what the deploy forecast expects (`expected_deploys`)."""
    return {
        "environment": state.environment,
        "at": at.isoformat(),
        "pending": [
            m.classification.model_dump(mode="json") for m in sorted(state.pending, key=lambda p: p.version)
        ],
        "decision": decision.to_dict(),
        "schedule": [run.to_dict() for run in schedule],
        "expected_deploys": next_deploy(state, policy, at).to_dict(),
    }


@click.command("plan")
@click.option(
    "--repo", required=True, type=click.Path(file_okay=False, path_type=Path), help="Local git checkout."
)
@click.option("--from", "from_rev", required=True, help="Revision of the last PDM run (or the baseline).")
@click.option("--to", "to_rev", required=True, help="Revision deployed now.")
@click.option("--at", "at_text", default=None, help="Evaluate at this ISO 8601 instant (default: now).")
@click.option("--policy", "policy_file", default=None, help="Policy YAML (default: PDM_POLICY_FILE).")
@click.option("--environment", default=None, help="Environment to plan (default: the first of the policy).")
@click.option(
    "--deploys",
    "deploys_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help='Recorded deploy starts for the forecast: JSON [{"at": ISO 8601, "environment": NAME}, ...].',
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@guarded
def plan(
    repo: Path,
    from_rev: str,
    to_rev: str,
    at_text: str | None,
    policy_file: str | None,
    environment: str | None,
    deploys_file: Path | None,
    as_json: bool,
) -> None:
    """Show what would run when, and why, for the migrations added between two revisions.

    \b
    Example:
      pdm-bot plan --repo /tmp/pdm-sample --from baseline --to main --environment gprd \\
        --at 2026-01-09T15:00:00Z --policy examples/policy.yaml
    """
    at = parse_at(at_text)
    policy = load_policy(Path(policy_file or Settings().policy_file).read_text(encoding="utf-8"))
    env = policy.environment(environment or policy.environments[0].name).name
    state = read_pending(repo, from_rev, to_rev, policy, at)
    state = replace(state, environment=env, upstream_successes=upstream_projection(state, policy, env, at))
    if deploys_file is not None:
        state = replace(state, deploy_starts=read_deploys(deploys_file, policy, env))
    decision = decide(state, policy, at)
    schedule = project(state, policy, at, PLAN_HORIZON)
    if as_json:
        emit_json(plan_json(state, decision, schedule, policy, at))
    else:
        click.echo(render(state, decision, schedule, policy, at))
