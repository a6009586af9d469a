"""Bad input at scale (hypothesis): the `/pdm` parser and listener, GitLab webhook bodies, Block Kit
interaction payloads and the Ruby classifier never raise and always say what was wrong."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.blocks import PROPOSAL_ACTIONS
from handlers.commands import BY_NAME, Command, ParseError, parse_pdm
from scheduler.classify import classify_source
from tests.conftest import REPO_ROOT
from tests.servers.fake_slack import FakeSlack
from tests.support.web import APPROVER, SIGNING_SECRET, WEBHOOK_SECRET, Reply, Served, http, serve_app, sign

ENVIRONMENTS = ("gstg", "gprd")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HTTP_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SLACK_FUZZ = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WORDS = st.sampled_from([*BY_NAME, "gstg", "GPRD", "--up-to", "--up-to=1", "all", "20260105101500", "x" * 41])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


TRIED: Counter[str] = Counter()  # HTTP inputs sent per endpoint (docs/reliability.md records them)


@pytest.fixture(scope="module")
def app(redis_server: str) -> Iterator[Served]:
    from tests.servers.fake_slack import serve_fake_slack

    slack_gen = serve_fake_slack()
    slack: FakeSlack = next(slack_gen)
    with serve_app(redis_server, slack.api_url) as served:
        yield served
    slack_gen.close()
    print(f"\nfuzz inputs per endpoint: {dict(sorted(TRIED.items()))}")


def slack_post(app: Served, body: bytes, headers: dict[str, str]) -> Reply:
    TRIED["/slack/events"] += 1
    return http(app.url + "/slack/events", body, headers)


def webhook(app: Served, body: Any, token: str | None = WEBHOOK_SECRET) -> Reply:
    TRIED["/webhooks/gitlab"] += 1
    return app.webhook(body, token=token)


def signed(
    body: bytes, content_type: str, *, timestamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Slack's v0 signature over raw bytes (any timestamp text, to forge odd headers)."""
    ts = str(int(time.time())) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode("latin-1") + body, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


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
    TRIED["/slack/events"] += 1
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
    reply = webhook(app, body)
    assert reply.status in (200, 400), reply.body[:200]
    answer = reply.json()
    if reply.status == 400:
        assert answer["result"] == "malformed" and answer["reason"]
    else:
        assert answer["result"] in ("queued", "duplicate", "ignored")


@HTTP_FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_posted_as_a_webhook_are_a_400_with_a_reason(app: Served, body: bytes) -> None:
    reply = webhook(app, body)
    if reply.status == 200:  # the bytes happened to be a valid ignorable delivery
        return
    assert reply.status == 400 and reply.json()["reason"]


def test_a_deeply_nested_json_webhook_is_a_400_not_a_crash(app: Served) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        reply = webhook(app, body)
        assert reply.status == 400 and "deep" in reply.json()["reason"]
    assert webhook(app, b"[" * 100_000, token="wrong").status == 401


# Block Kit interactions ----------------------------------------------------------------------------


def post_payload(app: Served, raw: str) -> tuple[int, bytes]:
    body = urlencode({"payload": raw})
    reply = slack_post(app, body.encode(), sign(body))
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


# /slack/events: signature first, then the shape ------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = st.sampled_from(
    [FORM, "application/json", "application/json; charset=utf-8", "text/plain", "", "multipart/form-data"]
)
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=24
)
FIELDS = st.sampled_from(
    [
        "command",
        "text",
        "user_id",
        "team_id",
        "channel_id",
        "response_url",
        "payload",
        "event",
        "type",
        "authorizations",
        "enterprise",
        "team",
        "user",
        "channel",
        "ssl_check",
        "challenge",
        "token",
    ]
)
FORMS = st.dictionaries(FIELDS, st.text(max_size=20) | JSON.map(json.dumps), max_size=5).map(
    lambda d: urlencode(d).encode()
)
EVENTS = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited"]) | JSON},
    optional={
        "event": JSON
        | st.fixed_dictionaries(
            {"type": st.sampled_from(["message", "app_mention"]) | JSON},
            optional={
                k: st.text(max_size=12) | JSON for k in ("subtype", "user", "bot_id", "channel", "ts", "text")
            },
        ),
        "authorizations": JSON
        | st.lists(st.dictionaries(st.sampled_from(["team_id", "user_id", "is_bot"]), JSON)),
        "team_id": JSON,
        "enterprise_id": JSON,
        "challenge": JSON,
        "api_app_id": JSON,
    },
).map(lambda d: json.dumps(d).encode())
BODIES = (
    st.binary(max_size=200)
    | JSON.map(lambda v: json.dumps(v).encode())
    | FORMS
    | EVENTS
    | EVENTS.flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n]))  # truncated JSON
    | st.sampled_from(
        [b"payload=x", b"[1,2]", b'{"type": "event_', b"payload=%7B", b"command=/pdm&text=status"]
    )
)


def audit_size(app: Served) -> int:
    return int(app.state.r.xlen("pdm:audit"))


@SLACK_FUZZ
@given(
    body=BODIES,
    content_type=CONTENT_TYPES,
    timestamp=st.none() | HEADER_TEXT | st.integers(-(10**15), 10**15).map(str),
    signature=st.none() | HEADER_TEXT | st.just("v0=" + "0" * 64),
    wrong_secret=st.booleans(),
)
def test_unsigned_or_badly_signed_requests_are_401_whatever_their_body_or_header_values(
    app: Served,
    body: bytes,
    content_type: str,
    timestamp: str | None,
    signature: str | None,
    wrong_secret: bool,
) -> None:
    if wrong_secret:
        headers = signed(body, content_type, secret="not-the-signing-secret")
    else:
        headers = {"Content-Type": content_type}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
        if signature is not None:
            headers["X-Slack-Signature"] = signature
    before = audit_size(app)
    reply = slack_post(app, body, headers)
    assert (reply.status, reply.json()) == (401, {"error": "invalid request"}), reply.body[:200]
    assert app.jobs() == [] and audit_size(app) == before


@pytest.mark.parametrize("timestamp", ["abc", "", " 1", "1e9", "\u00b2\u00b3", "-1", "1.5", "0x10", "9" * 40])
@pytest.mark.parametrize("body", [b"payload=x", b"[1,2]", b'{"type": "event_', b"command=/pdm&text=status"])
def test_a_non_numeric_timestamp_is_401_even_when_the_hmac_over_it_matches(
    app: Served, timestamp: str, body: bytes
) -> None:
    reply = slack_post(app, body, signed(body, FORM, timestamp=timestamp))
    assert reply.status == 401


@SLACK_FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES)
def test_any_signed_body_is_answered_below_500_and_a_400_says_why(
    app: Served, body: bytes, content_type: str
) -> None:
    reply = slack_post(app, body, signed(body, content_type))
    event(f"status {reply.status}")
    assert reply.status in (200, 400, 404), (reply.status, reply.body[:200])
    if reply.status == 400:
        assert json.loads(reply.body)["error"]
    assert app.jobs() == []


@pytest.mark.parametrize(
    "body, content_type, reason",
    [
        (b"[1,2]", "application/json", "body is not a JSON object"),
        (b'{"type": "event_', "application/json", "body is not JSON"),
        (b"\xff\xfe", FORM, "body is not UTF-8"),
        (b"payload=x", FORM, "payload is not JSON"),
        (b'{"type": "event_callback", "event": 5}', "application/json", "event"),
        (b"authorizations=x&command=/pdm", FORM, "authorizations"),
        (b"event=x", FORM, "event"),
        (b'{"":"","event":null}', FORM, "event"),
        (b'{"type": "block_actions", "actions": 5}', "application/json", "user"),
    ],
)
def test_signed_but_malformed_bodies_are_400_with_the_reason(
    app: Served, body: bytes, content_type: str, reason: str
) -> None:
    reply = slack_post(app, body, signed(body, content_type))
    assert reply.status == 400 and reason in reply.json()["error"]


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
