"""Structured JSON logs: one event per line on stdout, secrets redacted before rendering.

Bind `request_id` / `run_id` with `structlog.contextvars.bound_contextvars(...)`; every event logged
inside (through structlog or the standard `logging` module) carries them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import unquote, urlsplit

import structlog
from pydantic import SecretStr
from structlog.typing import EventDict, Processor, WrappedLogger

from scheduler.redaction import SecretRedactor
from scheduler.settings import Settings

_HANDLER_NAME = "pdm-bot-json"


class RedactingProcessor:
    """structlog processor: the event with every credential redacted (`scheduler.redaction`)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._redactor = SecretRedactor(secrets)

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        redacted: EventDict = self._redactor.redact(dict(event_dict))
        return redacted


def secret_values(settings: Settings) -> list[str]:
    """Every configured credential (each `SecretStr` setting), and passwords embedded in URLs and DSNs."""
    values = [v.get_secret_value() for v in vars(settings).values() if isinstance(v, SecretStr)]
    for url in [settings.redis_url, *values]:
        password = urlsplit(url).password if "://" in url else None
        if password:
            values += [password, unquote(password)]
    return [v for v in values if v]


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Send structlog and standard-library logs as redacted JSON lines to `stream` (stdout)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            RedactingProcessor(secret_values(settings)),
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
