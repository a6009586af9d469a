"""`/pdm` subcommands: one table (name, parser, mutating flag, usage), a pure parser, and the listener.

The listener acks within Slack's 3 seconds every time: reads answer from Redis state and the pure domain,
mutating subcommands are authorised, audited and enqueued as jobs of `docs/jobs.md`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from bot import blocks
from bot.metrics import SLASH_COMMANDS
from bot.views import CommandHelp
from handlers.deps import UNAVAILABLE, Deps, check_approver
from scheduler.errors import PdmError
from scheduler.gitlab_model import SHA
from scheduler.jobnames import JobName

log = logging.getLogger(__name__)

VERSION_RE = re.compile(r"^\d{1,20}$")


@dataclass(frozen=True)
class Command:
    """A parsed `/pdm` invocation."""

    name: str
    environment: str | None = None
    version: str | None = None
    up_to: str | None = None
    sha: str | None = None
    reason: str = ""
    now: bool = False  # `/pdm run --now REASON`: outside closed allow windows


@dataclass(frozen=True)
class ParseError:
    """Why a `/pdm` text was not understood, and the usage to show."""

    message: str
    usage: str


class _Bad(Exception):
    """Raised inside parsers; becomes a `ParseError` with the subcommand's usage."""


Parser = Callable[[str, list[str], Sequence[str]], Command]


def _environment(token: str, environments: Sequence[str]) -> str:
    for name in environments:
        if name.lower() == token.lower():
            return name
    raise _Bad(f"unknown environment `{token}`; known: {', '.join(environments) or 'none'}")


def _version(token: str) -> str:
    if not VERSION_RE.match(token):
        raise _Bad(f"`{token}` is not a migration version (the leading digits of its file name)")
    return token


def _no_more(args: list[str]) -> None:
    if args:
        raise _Bad(f"unexpected argument `{' '.join(args)}`")


def _nothing(name: str, args: list[str], environments: Sequence[str]) -> Command:
    _no_more(args)
    return Command(name)


def _optional_env(name: str, args: list[str], environments: Sequence[str]) -> Command:
    env = _environment(args[0], environments) if args else None
    _no_more(args[1:])
    return Command(name, environment=env)


def _run(name: str, args: list[str], environments: Sequence[str]) -> Command:
    if not args:
        raise _Bad("missing ENV")
    env = _environment(args[0], environments)
    rest = args[1:]
    up_to = None
    if rest and rest[0].startswith("--up-to="):
        up_to, rest = _version(rest[0].split("=", 1)[1]), rest[1:]
    elif rest and rest[0] == "--up-to":
        if len(rest) < 2:
            raise _Bad("`--up-to` needs a VERSION")
        up_to, rest = _version(rest[1]), rest[2:]
    if rest and rest[0] == "--now":
        reason = " ".join(rest[1:]).strip()
        if not reason:
            raise _Bad("`--now` needs a REASON (it is audited and shown in the proposal)")
        return Command(name, environment=env, up_to=up_to, reason=reason, now=True)
    _no_more(rest)
    return Command(name, environment=env, up_to=up_to)


ALL = "all"


def _pause(name: str, args: list[str], environments: Sequence[str]) -> Command:
    """`pause [ENV|all] [reason]`: bare `pause` pauses every environment; with a reason the global
    pause is spelled `all`, so a typo in an environment name is an error, never a pause of everything."""
    if not args:
        return Command(name)
    reason = " ".join(args[1:])
    if args[0].lower() == ALL:
        return Command(name, reason=reason)
    try:
        env = _environment(args[0], environments)
    except _Bad as exc:
        raise _Bad(f"{exc} (or `{ALL}` to pause every environment)") from None
    return Command(name, environment=env, reason=reason)


def _resume(name: str, args: list[str], environments: Sequence[str]) -> Command:
    """`resume [ENV|all]`: without ENV (or with `all`) the pause of every environment is lifted."""
    if args and args[0].lower() == ALL:
        _no_more(args[1:])
        return Command(name)
    return _optional_env(name, args, environments)


def _hold(name: str, args: list[str], environments: Sequence[str]) -> Command:
    if not args:
        raise _Bad("missing VERSION")
    return Command(name, version=_version(args[0]), reason=" ".join(args[1:]))


def _version_only(name: str, args: list[str], environments: Sequence[str]) -> Command:
    if not args:
        raise _Bad("missing VERSION")
    _no_more(args[1:])
    return Command(name, version=_version(args[0]))


def _baseline(name: str, args: list[str], environments: Sequence[str]) -> Command:
    if len(args) < 2:
        raise _Bad("missing " + ("ENV and SHA" if not args else "SHA"))
    env = _environment(args[0], environments)
    sha = args[1].lower()
    if not SHA.fullmatch(sha):
        raise _Bad(f"`{args[1]}` is not a commit SHA (7 to 40 hexadecimal characters)")
    _no_more(args[2:])
    return Command(name, environment=env, sha=sha)


@dataclass(frozen=True)
class Subcommand:
    """One row of the command table."""

    name: str
    parse: Parser
    mutating: bool
    usage: str
    summary: str


COMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", _nothing, False, "/pdm help", "this list"),
    Subcommand(
        "status",
        _optional_env,
        False,
        "/pdm status [ENV]",
        "pending count per nature and database, next window, guards, rollback line",
    ),
    Subcommand("diff", _optional_env, False, "/pdm diff [ENV]", "the pending migrations, classified"),
    Subcommand("plan", _optional_env, False, "/pdm plan [ENV]", "what will run when, and why"),
    Subcommand("history", _optional_env, False, "/pdm history [ENV]", "recent runs"),
    Subcommand("explain", _version_only, False, "/pdm explain VERSION", "why a migration got its nature"),
    Subcommand(
        "run",
        _run,
        True,
        "/pdm run ENV [--up-to VERSION] [--now REASON]",
        "request a run (approval flow); `--now` runs outside closed allow windows",
    ),
    Subcommand(
        "pause",
        _pause,
        True,
        "/pdm pause [ENV|all] [reason]",
        "stop runs of ENV (default, or `all`: every environment)",
    ),
    Subcommand("resume", _resume, True, "/pdm resume [ENV|all]", "lift the pause of ENV (default: `all`)"),
    Subcommand(
        "hold",
        _hold,
        True,
        "/pdm hold VERSION [reason]",
        "keep a migration, and every later one, out of runs",
    ),
    Subcommand("unhold", _version_only, True, "/pdm unhold VERSION", "release a hold"),
    Subcommand(
        "baseline",
        _baseline,
        True,
        "/pdm baseline ENV SHA",
        "where pending detection starts when ENV has no recorded run",
    ),
)
BY_NAME = {c.name: c for c in COMMANDS}
GENERAL_USAGE = "/pdm " + "|".join(c.name for c in COMMANDS) + " …"


def help_entries() -> list[CommandHelp]:
    """The command table as help lines."""
    return [CommandHelp(usage=c.usage, summary=c.summary, mutating=c.mutating) for c in COMMANDS]


def parse_pdm(text: str, environments: Sequence[str]) -> Command | ParseError:
    """Parse the text after `/pdm`; an empty text means `help`."""
    tokens = text.split()
    if not tokens:
        return Command("help")
    name, args = tokens[0].lower(), tokens[1:]
    spec = BY_NAME.get(name)
    if spec is None:
        return ParseError(f"unknown subcommand `{tokens[0]}`; try `/pdm help`", GENERAL_USAGE)
    try:
        return spec.parse(name, args, environments)
    except _Bad as exc:
        return ParseError(f"{name}: {exc}", spec.usage)


# --- the listener ------------------------------------------------------------------------------------
COMMAND_JOBS = {
    "run": JobName.REQUEST_RUN,
    "pause": JobName.PAUSE,
    "resume": JobName.RESUME,
    "hold": JobName.HOLD,
    "unhold": JobName.UNHOLD,
    "baseline": JobName.SET_BASELINE,
}


def job_arguments(command: Command, user: str, response_url: str | None) -> tuple[Any, ...]:
    """Positional arguments of the job of a mutating command, as `docs/jobs.md` lists them."""
    match command.name:
        case "run":
            run = (command.environment, command.up_to, user, response_url)
            return (*run, command.reason) if command.now else run
        case "pause":
            return (command.environment, user, command.reason)
        case "resume":
            return (command.environment, user)
        case "hold":
            return (command.version, user, command.reason)
        case "unhold":
            return (command.version, user)
        case _:
            return (command.environment, command.sha, user)


def _queued_text(command: Command) -> str:
    target = command.environment or (command.version and f"`{command.version}`") or "all environments"
    return f":inbox_tray: `{command.name}` for {target} queued; the answer follows here or in the thread."


def on_pdm(deps: Deps, body: dict[str, Any], ack: Callable[..., Any]) -> None:
    """The `/pdm` listener: parse, authorise, ack (answer reads at once), enqueue mutations. While
    Redis is unreachable or hangs every subcommand is answered at once that nothing was changed."""
    try:
        _on_pdm(deps, body, ack)
    except redis.RedisError as exc:
        log.warning("/pdm: state store unavailable (%s)", type(exc).__name__)
        SLASH_COMMANDS.labels(subcommand="any", outcome="unavailable").inc()
        ack(response_type="ephemeral", text=UNAVAILABLE, blocks=blocks.error_blocks(UNAVAILABLE))


def _on_pdm(deps: Deps, body: dict[str, Any], ack: Callable[..., Any]) -> None:
    text = str(body.get("text", ""))
    user = str(body.get("user_id", ""))
    parsed = parse_pdm(text, deps.environments)
    if isinstance(parsed, ParseError):
        first = text.split()[0].lower() if text.split() else "help"
        SLASH_COMMANDS.labels(subcommand=first if first in BY_NAME else "unknown", outcome="bad_input").inc()
        ack(
            response_type="ephemeral",
            text=parsed.message,
            blocks=blocks.error_blocks(parsed.message, parsed.usage),
        )
        return
    spec = BY_NAME[parsed.name]
    if spec.mutating:
        refusal = check_approver(deps, user, f"/pdm {parsed.name}", parsed.environment)
        if refusal is not None:
            SLASH_COMMANDS.labels(subcommand=parsed.name, outcome="refused").inc()
            ack(response_type="ephemeral", text=refusal, blocks=blocks.error_blocks(refusal))
            return
        args = job_arguments(parsed, user, body.get("response_url"))
        deps.state.ping()  # a hung Redis fails here, before a write that could land later
        deps.queue.enqueue(COMMAND_JOBS[parsed.name].value, *args)
        SLASH_COMMANDS.labels(subcommand=parsed.name, outcome="queued").inc()
        ack(response_type="ephemeral", text=_queued_text(parsed))
        return
    if parsed.name == "help":
        SLASH_COMMANDS.labels(subcommand="help", outcome="answered").inc()
        ack(response_type="ephemeral", text="/pdm help", blocks=blocks.help_blocks(help_entries()))
        return
    try:
        answer = deps.reader.answer(parsed)
    except PdmError as exc:
        SLASH_COMMANDS.labels(subcommand=parsed.name, outcome="error").inc()
        ack(response_type="ephemeral", text=str(exc), blocks=blocks.error_blocks(str(exc), spec.usage))
        return
    except redis.RedisError:
        raise
    except Exception:
        log.exception("/pdm %s failed", parsed.name)
        SLASH_COMMANDS.labels(subcommand=parsed.name, outcome="error").inc()
        message = f"`/pdm {parsed.name}` failed inside pdm-bot; the logs have the details."
        ack(response_type="ephemeral", text=message, blocks=blocks.error_blocks(message))
        return
    SLASH_COMMANDS.labels(subcommand=parsed.name, outcome="answered").inc()
    ack(response_type="ephemeral", text=f"/pdm {parsed.name}", blocks=answer)
