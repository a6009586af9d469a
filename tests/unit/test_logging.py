"""JSON log lines carry context ids and never a credential."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from bot.logging import configure_logging
from scheduler.redaction import REDACTED
from scheduler.settings import Settings

SLACK_TOKEN = "xoxb-1111-2222-AbCdEfGhIjKlMnOp"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
GITLAB_TOKEN = "glpat-Zz9Yy8Xx7Ww6Vv5Uu4Tt"
WEBHOOK_SECRET = "hook-secret-value-42"
GRAFANA_TOKEN = "glsa_grafanaServiceAccount_0123"
REDIS_PASSWORD = "r3dis-pa55word"
PROMETHEUS_TOKEN = "prom-bearer-0987"
DSN_PASSWORD = "pg-pa55-main"
ALL_SECRETS = [
    SLACK_TOKEN,
    SIGNING_SECRET,
    GITLAB_TOKEN,
    WEBHOOK_SECRET,
    GRAFANA_TOKEN,
    REDIS_PASSWORD,
    PROMETHEUS_TOKEN,
    DSN_PASSWORD,
]


@pytest.fixture
def settings() -> Settings:
    return Settings(
        slack_bot_token=SecretStr(SLACK_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        gitlab_token=SecretStr(GITLAB_TOKEN),
        gitlab_webhook_secret=SecretStr(WEBHOOK_SECRET),
        grafana_token=SecretStr(GRAFANA_TOKEN),
        prometheus_token=SecretStr(PROMETHEUS_TOKEN),
        database_main_dsn=SecretStr(f"postgresql://pdm:{DSN_PASSWORD}@db:5432/gitlab"),
        redis_url=f"redis://:{REDIS_PASSWORD}@redis:6379/0",
    )


@pytest.fixture
def out(settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    level = logging.getLogger().level
    configure_logging(settings, stream=stream)
    yield stream
    unconfigure(level)


def unconfigure(level: int) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in [h for h in root.handlers if h.get_name() == "pdm-bot-json"]:
        root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def assert_no_secret(text: str) -> None:
    leaked = [s for s in ALL_SECRETS if s in text]
    assert leaked == [], f"secrets leaked into logs: {leaked}"


def test_each_event_is_one_json_line_with_timestamp_level_and_event(out: io.StringIO) -> None:
    structlog.get_logger("pdm").info("run started", environment="gprd")
    structlog.get_logger("pdm").warning("run slow")
    first, second = lines(out)
    assert first["event"] == "run started" and first["level"] == "info" and first["environment"] == "gprd"
    assert first["timestamp"].endswith("Z")
    assert second["level"] == "warning"


def test_request_and_run_ids_bound_in_context_appear_on_every_event(out: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="req-1", run_id="run-9"):
        structlog.get_logger().info("inside")
        logging.getLogger("handlers.webhook").info("from stdlib")
    structlog.get_logger().info("outside")
    inside, stdlib, outside = lines(out)
    assert (inside["request_id"], inside["run_id"]) == ("req-1", "run-9")
    assert (stdlib["request_id"], stdlib["run_id"], stdlib["logger"]) == (
        "req-1",
        "run-9",
        "handlers.webhook",
    )
    assert "request_id" not in outside


def test_keys_named_like_credentials_are_redacted_at_any_depth(out: io.StringIO) -> None:
    structlog.get_logger().info(
        "calling api",
        token="plain-value-1",
        headers={"Authorization": "Bearer plain-value-2", "Accept": "json"},
        config={"nested": {"db_password": "plain-value-3", "host": "db"}},
        items=[{"client_secret": "plain-value-4"}],
    )
    (event,) = lines(out)
    assert event["token"] == REDACTED
    assert event["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert event["config"] == {"nested": {"db_password": REDACTED, "host": "db"}}
    assert event["items"] == [{"client_secret": REDACTED}]
    assert "plain-value" not in out.getvalue()


def test_configured_secret_values_are_removed_from_messages_and_nested_values(out: io.StringIO) -> None:
    log = structlog.get_logger()
    log.info(f"posting with {SLACK_TOKEN} and {SIGNING_SECRET}")
    log.info("payload", body={"text": f"hook {WEBHOOK_SECRET}", "list": [GRAFANA_TOKEN, (GITLAB_TOKEN,)]})
    log.info("connecting", url=f"redis://:{REDIS_PASSWORD}@redis:6379/0")
    log.info(f"querying with {PROMETHEUS_TOKEN}", note=f"main db password is {DSN_PASSWORD}")
    assert_no_secret(out.getvalue())
    assert out.getvalue().count(REDACTED) >= 8


def test_secrets_inside_exception_text_and_tracebacks_are_redacted(out: io.StringIO) -> None:
    try:
        raise RuntimeError(f"401 from GitLab with token {GITLAB_TOKEN}, slack {SLACK_TOKEN}")
    except RuntimeError:
        structlog.get_logger().exception("gitlab call failed")
        logging.getLogger("gitlab").exception("stdlib saw %s", WEBHOOK_SECRET)
    structured, stdlib = lines(out)
    assert "RuntimeError" in structured["exception"] and REDACTED in structured["exception"]
    assert "RuntimeError" in stdlib["exception"] and stdlib["event"] == f"stdlib saw {REDACTED}"
    assert_no_secret(out.getvalue())


def test_token_shaped_strings_are_redacted_even_when_not_configured(out: io.StringIO) -> None:
    structlog.get_logger().info(
        "seen tokens",
        slack="xoxp-9999-8888-unconfigured",
        gitlab="glpat-unconfiguredToken123",
        url="https://user:hunter2@example.com/x",
    )
    (event,) = lines(out)
    assert event["slack"] == REDACTED and event["gitlab"] == REDACTED
    assert event["url"] == f"https://{REDACTED}@example.com/x"


def test_arbitrary_objects_are_rendered_as_redacted_text(out: io.StringIO) -> None:
    class Client:
        def __repr__(self) -> str:
            return f"Client(token={SLACK_TOKEN})"

        __str__ = __repr__

    structlog.get_logger().info("client", client=Client(), secret_str=SecretStr(SIGNING_SECRET))
    (event,) = lines(out)
    assert event["client"] == f"Client(token={REDACTED})"
    assert_no_secret(out.getvalue())


def test_stdlib_logs_below_the_configured_level_are_dropped(settings: Settings) -> None:
    stream = io.StringIO()
    level = logging.getLogger().level
    configure_logging(settings.model_copy(update={"log_level": "warning"}), stream=stream)
    try:
        logging.getLogger("pdm.tests.level").info("noise")
        structlog.get_logger().debug("noise")
        logging.getLogger("pdm.tests.level").error("job failed")
        assert [e["event"] for e in lines(stream)] == ["job failed"]
    finally:
        unconfigure(level)


def test_configuring_twice_does_not_duplicate_lines(settings: Settings, out: io.StringIO) -> None:
    configure_logging(settings, stream=out)
    logging.getLogger("x").warning("once")
    assert len(lines(out)) == 1


def test_default_stream_is_stdout(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    level = logging.getLogger().level
    configure_logging(settings)
    try:
        structlog.get_logger().info("to stdout", token=SLACK_TOKEN, note=f"value {GITLAB_TOKEN}")
        captured = capsys.readouterr().out
        assert json.loads(captured)["event"] == "to stdout"
        assert_no_secret(captured)
    finally:
        unconfigure(level)
