"""Job names are defined once (`scheduler.jobnames.JobName`) and every one still names an importable entry
point: jobs already queued in Redis at an upgrade keep running. docs/jobs.md lists the same jobs."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from scheduler.jobnames import JobName

DOCS = Path(__file__).resolve().parents[2] / "docs" / "jobs.md"


@pytest.mark.parametrize("name", list(JobName), ids=lambda n: n.short)
def test_every_job_name_is_an_importable_entry_point(name: JobName) -> None:
    module, function = name.value.rsplit(".", 1)
    entry = getattr(importlib.import_module(module), function)
    assert module == "scheduler.jobs" and inspect.isfunction(entry) and function == name.short


def test_the_documented_jobs_are_the_named_jobs() -> None:
    table = re.findall(r"^\| `([a-z_]+)`(?: / `([a-z_]+)`)? \|", DOCS.read_text(encoding="utf-8"), re.M)
    documented = {name for row in table for name in row if name}
    assert documented == {n.short for n in JobName}
