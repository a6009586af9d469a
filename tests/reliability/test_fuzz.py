"""Bad input at scale (hypothesis): the `/pdm` parser and listener, GitLab webhook bodies, Block Kit
interaction payloads and the Ruby classifier never raise and always say what was wrong."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks import PROPOSAL_ACTIONS
from handlers.commands import BY_NAME, Command, ParseError, parse_pdm
from scheduler.classify import classify_source
from tests.conftest import REPO_ROOT
from tests.servers.fake_slack import FakeSlack
from tests.support.web import APPROVER, Served, http, serve_app, sign

ENVIRONMENTS = ("gstg", "gprd")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HTTP_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WORDS = st.sampled_from([*BY_NAME, "gstg", "GPRD", "--up-to", "--up-to=1", "all", "20260105101500", "x" * 41])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def app(redis_server: str) -> Iterator[Served]:
    from tests.servers.fake_slack import serve_fake_slack

    slack_gen = serve_fake_slack()
    slack: FakeSlack = next(slack_gen)
    with serve_app(redis_server, slack.api_url) as served:
        yield served
    slack_gen.close()


# /pdm ----------------------------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=80) | st.lists(WORDS, max_size=6).map(" ".join))
def test_the_parser_answers_every_text_with_a_command_or_an_error_with_usage(text: str) -> None:
    parsed = parse_pdm(text, ENVIRONMENTS)
    if isinstance(parsed, ParseError):
        assert parsed.message.strip() and parsed.usage.startswith("/pdm")
    else:
        assert isinstance(parsed, Command) and parsed.name in BY_NAME
        assert parsed.environment in (None, *ENVIRONMENTS)


@HTTP_FUZZ
@given(st.lists(WORDS, max_size=5).map(" ".join) | st.text(max_size=60))
def test_any_slash_command_text_gets_a_200_with_text_never_a_server_error(app: Served, text: str) -> None:
    reply = app.slash(text, user="U0NOBODY")
    assert reply.status == 200
    assert reply.json()["text"]
    assert app.jobs() == []  # a non-approver never enqueues


# GitLab webhook ------------------------------------------------------------------------------------

HOOK_FIELDS = {
    "object_kind": st.sampled_from(["deployment", "push", ""]) | JSON,
    "status": st.sampled_from(["success", "running", "failed", "canceled", "created", "nope"]) | JSON,
    "deployment_id": st.integers(min_value=-5, max_value=2**70) | JSON,
    "environment": st.sampled_from(["gstg", "gprd", "other"]) | JSON,
    "short_sha": st.sampled_from(["abcdef1", "ABCDEF1", "xyz"]) | JSON,
    "commit_url": st.text(max_size=60) | JSON,
    "status_changed_at": st.sampled_from(
        [
            "2026-01-05 02:10:00 +0100",
            "2026-01-05 01:10:00 UTC",
            "yesterday",
            "2026-13-45T00:00:00Z",
            "2026-01-05T01:10:00",
        ]
    )
    | JSON,
}


@HTTP_FUZZ
@given(st.fixed_dictionaries({}, optional=HOOK_FIELDS) | JSON)
def test_any_json_webhook_with_a_valid_token_is_answered_without_a_server_error(
    app: Served, body: Any
) -> None:
    reply = app.webhook(body)
    assert reply.status in (200, 400), reply.body[:200]
    answer = reply.json()
    if reply.status == 400:
        assert answer["result"] == "malformed" and answer["reason"]
    else:
        assert answer["result"] in ("queued", "duplicate", "ignored")


@HTTP_FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_posted_as_a_webhook_are_a_400_with_a_reason(app: Served, body: bytes) -> None:
    reply = app.webhook(body)
    if reply.status == 200:  # the bytes happened to be a valid ignorable delivery
        return
    assert reply.status == 400 and reply.json()["reason"]


def test_a_deeply_nested_json_webhook_is_a_400_not_a_crash(app: Served) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        reply = app.webhook(body)
        assert reply.status == 400 and "deep" in reply.json()["reason"]
    assert app.webhook(b"[" * 100_000, token="wrong").status == 401


# Block Kit interactions ----------------------------------------------------------------------------


def post_payload(app: Served, raw: str) -> tuple[int, bytes]:
    body = urlencode({"payload": raw})
    reply = http(app.url + "/slack/events", body.encode(), sign(body))
    return reply.status, reply.body


@HTTP_FUZZ
@given(JSON.map(json.dumps) | st.text(max_size=40))
def test_any_signed_interaction_payload_is_answered_without_a_server_error(app: Served, raw: str) -> None:
    status, body = post_payload(app, raw)
    assert status in (200, 400, 404), body[:200]
    if status == 400:
        assert json.loads(body)["error"]


@HTTP_FUZZ
@given(
    st.fixed_dictionaries(
        {
            "type": st.just("block_actions"),
            "actions": st.lists(
                st.fixed_dictionaries(
                    {
                        "action_id": st.sampled_from(PROPOSAL_ACTIONS) | st.text(max_size=10),
                        "value": st.text(max_size=20),
                    }
                ),
                min_size=1,
                max_size=2,
            ),
        },
        optional={
            "user": st.fixed_dictionaries({"id": st.sampled_from([APPROVER, "U0NOBODY", ""])}) | JSON,
            "response_url": st.just("http://127.0.0.1:9/unused") | JSON,
            "team": JSON,
            "channel": JSON,
            "authorizations": JSON,
            "enterprise": JSON,
            "message": JSON,
        },
    )
)
def test_near_valid_button_payloads_never_fail_and_refusals_are_audited(
    app: Served, payload: dict[str, Any]
) -> None:
    before = len(app.state.audit_log(limit=10_000))
    status, body = post_payload(app, json.dumps(payload))
    assert status in (200, 400, 404), body[:200]
    if status == 400:
        assert len(app.state.audit_log(limit=10_000)) == before + 1  # ignored, with an audit entry
    assert app.jobs() == []  # no proposal exists: nothing is ever enqueued


# Ruby classifier -----------------------------------------------------------------------------------

CORPUS = sorted((REPO_ROOT / "tests" / "corpus").glob("*.rb"))
PATH = "db/post_migrate/20260105101500_fuzz.rb"


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_classify_without_raising(source: bytes) -> None:
    result = classify_source(source, PATH)
    assert result.primary_nature is not None
    if result.error is not None:
        assert result.error.strip() and "Traceback" not in result.error


@FUZZ
@given(st.sampled_from(CORPUS), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_corpus_files_classify_without_raising(path: Path, fraction: float) -> None:
    source = path.read_bytes()
    cut = source[: int(len(source) * fraction)]
    result = classify_source(cut, f"db/post_migrate/{path.name}")
    assert result.error is None or result.error.strip()


@pytest.mark.parametrize(
    "opening, closing",
    [("begin\n", "end\n"), ("if x\n", "end\n"), ("execute(", ")"), ("[", "]"), ("foo do\n", "end\n")],
    ids=["begin", "if", "nested-calls", "arrays", "blocks"],
)
def test_five_thousand_levels_of_nesting_are_refused_quickly_with_a_reason(
    opening: str, closing: str
) -> None:
    body = opening * 5000 + "'x'\n" + closing * 5000
    source = f"class A < Gitlab::Database::Migration[2.2]\n  def up\n{body}\n  end\nend\n".encode()
    started = time.monotonic()
    result = classify_source(source, PATH)
    assert time.monotonic() - started < 5
    assert result.error is not None and ("deep" in result.error or "syntax" in result.error)
    assert str(result.primary_nature) == "unknown"
