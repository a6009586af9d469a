"""The Slack adapter: the only module that imports `slack_sdk`.

`make_web_client` builds the Web API client on `PDM_SLACK_API_URL`, with retries for rate limits (429,
honouring Retry-After) and connection errors, or without (the outbox sender retries by itself).
`SlackTransport` renders worker notes with `bot.blocks` and sends each in one attempt, raising a
`SlackError` that says whether and when to retry; `UsergroupDirectory` resolves usergroup members with a
TTL cache.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot import blocks
from scheduler.adapters.redis_telemetry import count_api_error
from scheduler.errors import DeliveryError
from scheduler.notes import DiffNote, Message, ProposalNote, RunNote, RunRequestAnswer
from scheduler.settings import Settings

log = logging.getLogger(__name__)


class SlackError(DeliveryError):
    """A Slack call failed (the message names the method and Slack's error, never the token)."""


def retry_handlers(max_retries: int = 3) -> list[Any]:
    """Retry 429s after their Retry-After and connection errors with back-off."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
    ]


SIGNATURE_TOLERANCE_SECONDS = 300
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: `int()` would take other scripts' digits


def signature_valid(signing_secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 request signature over the raw `body`, with its 5-minute timestamp tolerance.

    Nothing is parsed before this says yes: a missing, non-numeric or non-ASCII header is simply invalid.
    """
    if not signing_secret or timestamp is None or signature is None:
        return False
    if not TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
        return False
    if abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body  # over the bytes: a body need not be UTF-8 here
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}", signature)


def make_web_client(settings: Settings, *, timeout: int = 10, retries: bool = True) -> WebClient:
    """A Web API client on `settings.slack_api_url` (its base URL ends with a slash); `retries=False`: one
    attempt per call (what the outbox sender wants: it never sleeps inside a job)."""
    base_url = (
        settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    )
    return WebClient(
        token=settings.slack_bot_token.get_secret_value() or None,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=retry_handlers() if retries else [],
    )


PERMANENT_ERRORS = frozenset(
    {
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
    }
)  # the message itself is refused: sending it again cannot help
GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _call(method: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a Web API method, counting failures and turning them into `SlackError` (retryable unless
    Slack refused the message itself; with Slack's Retry-After on HTTP 429)."""
    try:
        return fn(**kwargs)
    except SlackApiError as exc:
        status = int(exc.response.status_code)
        data = exc.response.data
        code = data.get("error") if isinstance(data, dict) and status in (200, 429) else None  # 5xx: any text
        error = str(code or f"http_{status}")
        count_api_error("slack", error)
        raise SlackError(
            f"Slack {method} failed: {error}",
            retry_after=_retry_after(exc.response.headers) if status == 429 else None,
            permanent=status == 200 and error in PERMANENT_ERRORS,
            gone=status == 200 and error in GONE_ERRORS,
        ) from None
    except SlackRequestError as exc:
        count_api_error("slack", "request")
        raise SlackError(f"Slack {method} failed: {exc}", permanent=True) from None
    except (SlackClientError, OSError) as exc:
        count_api_error("slack", "connection")
        raise SlackError(f"Slack {method} failed: {type(exc).__name__}") from None


class SlackTransport:
    """`scheduler.notes.Transport` for Slack: renders notes with `bot.blocks`, one call per message."""

    def __init__(
        self, client: WebClient, channel: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._client = client
        self._channel = channel
        self._clock = clock

    @property
    def channel(self) -> str:
        """The release channel."""
        return self._channel

    def render(self, note: Message) -> tuple[list[blocks.Block], str]:
        """Blocks and notification text of a note (a diff renders as its root message)."""
        if isinstance(note, DiffNote):
            diff = blocks.diff_blocks(note)
            return diff.root, diff.text
        if isinstance(note, ProposalNote):
            return blocks.proposal_blocks(note), (
                f"Proposal: run {len(note.migrations)} post-deploy migrations on {note.environment}"
            )
        if isinstance(note, RunNote):
            return blocks.run_blocks(note, now=self._clock()), (
                f"PDM run on {note.environment}: {note.event}"
            )
        return blocks.text_blocks(note), blocks.notice_text(note)

    def parts(self, note: Message) -> int:
        """1, or for a diff of more than 10 migrations its root plus one reply per 15 migrations."""
        return 1 + len(blocks.diff_blocks(note).replies) if isinstance(note, DiffNote) else 1

    def post(self, note: Message, thread_ts: str | None, part: int = 0) -> str:
        """chat.postMessage of part `part` of `note`, in the thread of `thread_ts` when given."""
        if isinstance(note, DiffNote):
            diff = blocks.diff_blocks(note)
            rendered, text = (diff.root if part == 0 else diff.replies[part - 1]), diff.text
        else:
            rendered, text = self.render(note)
        kwargs: dict[str, Any] = {"channel": self._channel, "text": text, "blocks": rendered}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        response = _call("chat.postMessage", self._client.chat_postMessage, **kwargs)
        return str(response["ts"])

    def update(self, note: Message, ts: str) -> None:
        """Replace message `ts` of the release channel with `note` (chat.update)."""
        rendered, text = self.render(note)
        _call(
            "chat.update", self._client.chat_update, channel=self._channel, ts=ts, text=text, blocks=rendered
        )

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool) -> None:
        """Answer a slash command or button later through its `response_url` (one attempt)."""
        text = answer if isinstance(answer, str) else blocks.answer_text(answer)
        webhook = WebhookClient(response_url, timeout=10, retry_handlers=[])
        try:
            response = webhook.send(
                text=text,
                blocks=[blocks.section(text)],
                response_type="ephemeral" if ephemeral else "in_channel",
                replace_original=False,
            )
        except (SlackClientError, OSError) as exc:
            count_api_error("slack", "connection")
            raise SlackError(f"Slack response_url failed: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 300:
            count_api_error("slack", f"http_{status}")
            raise SlackError(
                f"Slack response_url answered HTTP {status}",
                retry_after=_retry_after(response.headers) if status == 429 else None,
                permanent=400 <= status < 500 and status != 429,
            )


class UsergroupDirectory:
    """Members of Slack usergroups (usergroups.users.list), cached for `ttl_seconds`."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, usergroup: str) -> frozenset[str]:
        """User ids of `usergroup`; raises `SlackError` when Slack cannot answer and nothing is cached."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(usergroup)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = _call("usergroups.users.list", self._client.usergroups_users_list, usergroup=usergroup)
        except SlackError:
            if cached is not None:
                log.warning("usergroup %s: Slack unavailable, using the cached members", usergroup)
                return cached[1]
            raise
        users = frozenset(str(u) for u in response.get("users", []))
        with self._lock:
            self._cache[usergroup] = (now, users)
        return users
