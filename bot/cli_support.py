"""Exit codes and the one place where CLI errors become a one-line message."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from scheduler.errors import PdmError

if TYPE_CHECKING:
    import pydantic

P = ParamSpec("P")
R = TypeVar("R")


class ExitCode(IntEnum):
    """Contract: 0 success, 1 a failure the command was asked to report, 2 bad usage or input."""

    OK = 0
    FOUND = 1
    USAGE = 2


def fail(message: str) -> NoReturn:
    """Print one line on stderr and exit with USAGE."""
    click.echo(f"pdm-bot: error: {message}", err=True)
    sys.exit(ExitCode.USAGE)


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors and unreadable files into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except PdmError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        except Exception as exc:
            # Settings are pydantic models; a command that never loaded pydantic (classify) has none to check.
            pydantic = sys.modules.get("pydantic")
            if pydantic is None or not isinstance(exc, pydantic.ValidationError):
                raise
            fail(invalid_settings(exc))

    return wrapper


def invalid_settings(exc: pydantic.ValidationError) -> str:
    """One line naming each bad `PDM_*` variable and why (never its value: it may be a secret)."""
    problems = [f"PDM_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}" for e in exc.errors()]
    return "invalid setting " + "; ".join(problems)


def emit_json(data: Any) -> None:
    """Write `data` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
