"""End-to-end fixtures: the fakes and `start_stack`, real processes (tests/support/e2e.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.e2e import Stack
from tests.support.web import Served


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack()


@pytest.fixture
def start_stack(
    redis_url: str, gitlab: FakeGitLabApi, slack: FakeSlack, tmp_path: Path
) -> Iterator[Callable[..., Served]]:
    """`start_stack(policy, **settings)` → the served app; both processes stop at teardown."""
    stack = Stack(redis_url, gitlab, slack, tmp_path)
    yield stack.start
    stack.stop()
