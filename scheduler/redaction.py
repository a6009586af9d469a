"""The one redactor of secrets, used by the logs (`bot/logging.py`) and the audit log (`adapters`).

A value is redacted when its key's name says it is a credential (`token`, `secret`, `password`,
`authorization`, `dsn`), when it is one of the configured secret values, or when it is token-shaped (Slack
and GitLab tokens, `Bearer …`, `user:password@` in URLs), at any depth of mappings and lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
SENSITIVE_KEY_PARTS = ("token", "secret", "password", "authorization", "dsn")
_TOKEN_PATTERNS = (
    re.compile(r"xox[abprs]-[A-Za-z0-9-]+"),  # Slack bot/user/app-level tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"glpat-[A-Za-z0-9_.-]+"),  # GitLab personal/project access tokens
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?<=://)[^/\s:@]*:[^/\s@]+(?=@)"),  # user:password in URLs
)


def is_sensitive_key(key: object) -> bool:
    """True when a key's name says its value is a credential."""
    name = str(key).lower()
    return any(part in name for part in SENSITIVE_KEY_PARTS)


class SecretRedactor:
    """Replaces credentials anywhere in a value, nested values included."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
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
        """`value` with every secret replaced; objects that are not JSON become redacted text."""
        if isinstance(value, str):
            return self.redact_text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {str(k): REDACTED if is_sensitive_key(k) else self.redact(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.redact(v) for v in value]
        return self.redact_text(str(value))


def redact(value: Any) -> Any:
    """`value` redacted by key names and token shapes (no configured secret values)."""
    return SecretRedactor().redact(value)
