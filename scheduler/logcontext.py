"""Log context of RQ jobs: every event logged inside a job carries `job` and its run id / environment."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import structlog

P = ParamSpec("P")
R = TypeVar("R")
BOUND_ARGUMENTS = ("run_id", "environment")


def bound_job(fn: Callable[P, R]) -> Callable[P, R]:
    """Bind `job=<name>` and the job's `run_id` / `environment` arguments while `fn` runs."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        arguments = signature.bind_partial(*args, **kwargs).arguments
        context = {k: arguments[k] for k in BOUND_ARGUMENTS if arguments.get(k) is not None}
        with structlog.contextvars.bound_contextvars(job=fn.__name__, **context):
            return fn(*args, **kwargs)

    return wrapper
