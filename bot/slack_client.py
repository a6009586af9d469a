"""The Slack adapter: the only module that imports `slack_sdk`.

`make_web_client` builds the Web API client on `PDM_SLACK_API_URL` with retries for rate limits (429,
honouring Retry-After) and connection errors. `SlackNotifier` renders worker notes with `bot.blocks` and
delivers them into the package thread; `UsergroupDirectory` resolves usergroup members with a TTL cache.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot import blocks
from bot.settings import Settings
from scheduler.errors import PdmError
from scheduler.notes import DiffNote, Note, ProposalNote, RunNote
from scheduler.records import SlackMessage
from scheduler.telemetry import count_api_error

log = logging.getLogger(__name__)


class SlackError(PdmError):
    """A Slack Web API call failed after its retries (the message names the method and Slack's error)."""


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


def make_web_client(settings: Settings, *, timeout: int = 10) -> WebClient:
    """A Web API client on `settings.slack_api_url` (its base URL ends with a slash)."""
    base_url = (
        settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    )
    return WebClient(
        token=settings.slack_bot_token.get_secret_value() or None,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=retry_handlers(),
    )


class ThreadStore(Protocol):
    """Where the root message of each package thread is kept (`scheduler.state.State` satisfies it)."""

    def thread(self, env: str, sha: str) -> SlackMessage | None:
        """The root message of the thread of package `sha` in `env`."""

    def set_thread(self, env: str, sha: str, message: SlackMessage) -> bool:
        """Remember the root message of a package's thread; False if one is already known."""


def _call(method: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a Web API method, counting failures and turning them into `SlackError`."""
    try:
        return fn(**kwargs)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        count_api_error("slack", error)
        raise SlackError(f"Slack {method} failed: {error}") from None
    except (SlackClientError, OSError) as exc:
        count_api_error("slack", "connection")
        raise SlackError(f"Slack {method} failed: {type(exc).__name__}") from None


class SlackNotifier:
    """`scheduler.notes.Notifier` for Slack: one thread per deployed package in the release channel."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        threads: ThreadStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._channel = channel
        self._threads = threads
        self._clock = clock

    def render(self, note: Note) -> tuple[list[blocks.Block], str]:
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
        return blocks.text_blocks(note), note.text

    def _post(self, rendered: list[blocks.Block], text: str, thread_ts: str | None) -> str:
        kwargs: dict[str, Any] = {"channel": self._channel, "text": text, "blocks": rendered}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        response = _call("chat.postMessage", self._client.chat_postMessage, **kwargs)
        return str(response["ts"])

    def post(self, note: Note) -> str | None:
        """Post `note`; a `DiffNote` starts its package thread once (long diffs continue as replies)."""
        if isinstance(note, DiffNote):
            known = self._threads.thread(note.environment, note.thread_sha)
            if known is not None:
                return known.ts
            diff = blocks.diff_blocks(note)
            ts = self._post(diff.root, diff.text, None)
            self._threads.set_thread(note.environment, note.thread_sha, SlackMessage(self._channel, ts))
            for reply in diff.replies:
                self._post(reply, diff.text, ts)
            return ts
        root = self._threads.thread(note.environment, note.thread_sha) if note.thread_sha else None
        rendered, text = self.render(note)
        return self._post(rendered, text, root.ts if root else None)

    def update(self, note: Note, message_id: str) -> None:
        """Replace message `message_id` of the release channel with `note` (chat.update)."""
        rendered, text = self.render(note)
        _call(
            "chat.update",
            self._client.chat_update,
            channel=self._channel,
            ts=message_id,
            text=text,
            blocks=rendered,
        )

    def respond(self, response_url: str, text: str, *, ephemeral: bool = True) -> None:
        """Answer a slash command or button later through its `response_url`."""
        webhook = WebhookClient(response_url, timeout=10, retry_handlers=retry_handlers())
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
        if response.status_code >= 300:
            count_api_error("slack", f"http_{response.status_code}")
            raise SlackError(f"Slack response_url answered HTTP {response.status_code}")

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        """Show `text` to `user` only, in `channel` (chat.postEphemeral)."""
        _call(
            "chat.postEphemeral",
            self._client.chat_postEphemeral,
            channel=channel,
            user=user,
            text=text,
            blocks=[blocks.section(text)],
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
