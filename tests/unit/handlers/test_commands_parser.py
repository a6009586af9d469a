"""`parse_pdm`: the pure /pdm parser and its command table."""

from __future__ import annotations

import pytest

from handlers.commands import COMMANDS, Command, ParseError, help_entries, job_arguments, parse_pdm

ENVS = ("gstg", "gprd")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("status", Command("status")),
        ("status gprd", Command("status", environment="gprd")),
        ("STATUS GPRD", Command("status", environment="gprd")),
        ("diff gstg", Command("diff", environment="gstg")),
        ("plan", Command("plan")),
        ("run gprd", Command("run", environment="gprd")),
        ("run gprd --up-to 20260104101500", Command("run", environment="gprd", up_to="20260104101500")),
        ("run gprd --up-to=20260104101500", Command("run", environment="gprd", up_to="20260104101500")),
        (
            "run gprd --now index needed for the hotfix",
            Command("run", environment="gprd", reason="index needed for the hotfix", now=True),
        ),
        ("pause", Command("pause")),
        ("pause all", Command("pause")),
        ("pause ALL freeze for the offsite", Command("pause", reason="freeze for the offsite")),
        (
            "pause gprd incident 1234 in progress",
            Command("pause", environment="gprd", reason="incident 1234 in progress"),
        ),
        ("resume gstg", Command("resume", environment="gstg")),
        ("resume all", Command("resume")),
        ("resume", Command("resume")),
        (
            "hold 20260104101500 waits for a fix",
            Command("hold", version="20260104101500", reason="waits for a fix"),
        ),
        ("unhold 20260104101500", Command("unhold", version="20260104101500")),
        ("baseline gprd ABCDEF1234567", Command("baseline", environment="gprd", sha="abcdef1234567")),
        ("history", Command("history")),
        ("explain 20260104101500", Command("explain", version="20260104101500")),
    ],
)
def test_valid_subcommands_parse_into_commands(text: str, expected: Command) -> None:
    assert parse_pdm(text, ENVS) == expected


@pytest.mark.parametrize(
    ("text", "message", "usage"),
    [
        ("deploy gprd", "unknown subcommand `deploy`", "/pdm help|status"),
        ("status gprd2", "status: unknown environment `gprd2`; known: gstg, gprd", "/pdm status [ENV]"),
        ("run", "run: missing ENV", "/pdm run ENV [--up-to VERSION]"),
        ("run gprd --up-to", "run: `--up-to` needs a VERSION", "/pdm run ENV"),
        ("run gprd --now", "run: `--now` needs a REASON", "/pdm run ENV"),
        ("run gprd --up-to latest", "run: `latest` is not a migration version", "/pdm run ENV"),
        ("run gprd now", "run: unexpected argument `now`", "/pdm run ENV"),
        ("hold", "hold: missing VERSION", "/pdm hold VERSION [reason]"),
        ("unhold 2026 extra", "unhold: unexpected argument `extra`", "/pdm unhold VERSION"),
        ("baseline gprd", "baseline: missing SHA", "/pdm baseline ENV SHA"),
        ("baseline gprd main", "baseline: `main` is not a commit SHA", "/pdm baseline ENV SHA"),
        (
            "explain remove_column",
            "explain: `remove_column` is not a migration version",
            "/pdm explain VERSION",
        ),
        ("help me", "help: unexpected argument `me`", "/pdm help"),
        (
            "pause gprdd db maintenance",
            "pause: unknown environment `gprdd`; known: gstg, gprd (or `all`",
            "/pdm pause [ENV|all] [reason]",
        ),
        ("pause freeze for the offsite", "pause: unknown environment `freeze`", "/pdm pause [ENV|all]"),
        ("resume all now", "resume: unexpected argument `now`", "/pdm resume [ENV|all]"),
    ],
)
def test_bad_input_gets_a_clear_message_and_the_usage(text: str, message: str, usage: str) -> None:
    result = parse_pdm(text, ENVS)
    assert isinstance(result, ParseError)
    assert result.message.startswith(message)
    assert result.usage.startswith(usage)


def test_the_table_covers_the_contract_and_marks_exactly_the_mutating_subcommands() -> None:
    assert {c.name for c in COMMANDS} == {
        "help",
        "status",
        "diff",
        "plan",
        "run",
        "pause",
        "resume",
        "hold",
        "unhold",
        "baseline",
        "history",
        "explain",
    }
    assert {c.name for c in COMMANDS if c.mutating} == {
        "run",
        "pause",
        "resume",
        "hold",
        "unhold",
        "baseline",
    }


def test_help_is_generated_from_the_table() -> None:
    assert [h.usage for h in help_entries()] == [c.usage for c in COMMANDS]


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("run gprd --up-to 20260104101500", ("gprd", "20260104101500", "U1", "http://r")),
        ("run gprd --now outage fix", ("gprd", None, "U1", "http://r", "outage fix")),
        ("pause gprd db maintenance", ("gprd", "U1", "db maintenance")),
        ("pause all offsite", (None, "U1", "offsite")),
        ("resume", (None, "U1")),
        ("hold 20260104101500 broken", ("20260104101500", "U1", "broken")),
        ("unhold 20260104101500", ("20260104101500", "U1")),
        ("baseline gstg abcdef1", ("gstg", "abcdef1", "U1")),
    ],
)
def test_mutating_commands_map_to_the_job_arguments_of_the_contract(
    text: str, args: tuple[object, ...]
) -> None:
    command = parse_pdm(text, ENVS)
    assert isinstance(command, Command)
    assert job_arguments(command, "U1", "http://r") == args
