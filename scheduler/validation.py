"""Shared by the policy and scenario loaders: the strict model base and one `key.path: message` line per
pydantic validation error."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

Loc = tuple[int | str, ...]
# (error, location without a trailing "[key]", whether the error is about a mapping key) -> message,
# or None to fall back to the common wording.
Describe = Callable[[Mapping[str, Any], Loc, bool], str | None]


class Strict(BaseModel):
    """Base of the file models: unknown keys are errors; values are frozen; aliased fields also take
    their own name."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def key_path(loc: Loc, root: str) -> str:
    """`a.b[0].c` for a pydantic location; `root` for an error about the whole document."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or root


def error_line(
    error: Mapping[str, Any],
    *,
    root: str,
    relocate: Callable[[Loc], Loc] = lambda loc: loc,
    describe: Describe = lambda error, loc, at_key: None,
    own_message: Collection[str] = ("value_error",),
) -> str:
    """`key.path: message` for one entry of `ValidationError.errors()`.

    `relocate` rewrites the location (aliases, union tags); `describe` words the file's own cases;
    error types in `own_message` keep the validator's message as is."""
    loc = relocate(tuple(error["loc"]))
    at_key = bool(loc) and loc[-1] == "[key]"
    if at_key:
        loc = loc[:-1]
    message = describe(error, loc, at_key)
    if message is None:
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required"
        elif kind in own_message:
            message = str(error["msg"]).removeprefix("Value error, ")
        else:
            message = f"{str(error['msg']).lower()} (got {error['input']!r})"
    return f"{key_path(loc, root)}: {message}"


def first_error(exc: ValidationError, whole: str) -> str:
    """`a.b.c: message` of the first error of a request body's validation (`whole` names the body)."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or whole
    return f"{where}: {error['msg']}"
