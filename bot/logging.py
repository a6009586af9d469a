"""Structured JSON logs: one event per line on stdout, secrets redacted before rendering.

Bind `request_id` / `run_id` with `structlog.contextvars.bound_contextvars(...)`; every event logged
inside (through structlog or the standard `logging` module) carries them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

import structlog
from pydantic import SecretStr
from structlog.typing import EventDict, Processor, WrappedLogger

from scheduler.settings import Settings

REDACTED = "[REDACTED]"
SENSITIVE_KEY_PARTS = ("token", "secret", "password", "authorization")
_TOKEN_PATTERNS = (
    re.compile(r"xox[abprs]-[A-Za-z0-9-]+"),  # Slack bot/user/app-level tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"glpat-[A-Za-z0-9_.-]+"),  # GitLab personal/project access tokens
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?<=://)[^/\s:@]*:[^/\s@]+(?=@)"),  # user:password in URLs
)
_HANDLER_NAME = "pdm-bot-json"


def is_sensitive_key(key: object) -> bool:
    """True when a key's name says its value is a credential."""
    name = str(key).lower()
    return any(part in name for part in SENSITIVE_KEY_PARTS)


class SecretRedactor:
    """structlog processor replacing credentials anywhere in an event, nested values included."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact_text(self, text: str) -> str:
        """Remove configured secret values and token-shaped strings from `text`."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text

    def redact(self, value: Any) -> Any:
        """Return `value` with every secret replaced; non-JSON objects become redacted text."""
        if isinstance(value, str):
            return self.redact_text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {str(k): REDACTED if is_sensitive_key(k) else self.redact(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.redact(v) for v in value]
        return self.redact_text(str(value))

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        return {
            key: REDACTED if is_sensitive_key(key) else self.redact(value)
            for key, value in event_dict.items()
        }


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
            SecretRedactor(secret_values(settings)),
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
