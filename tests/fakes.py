"""In-memory fakes of the ports (assert on what they hold)."""

from __future__ import annotations

from dataclasses import dataclass, field

from scheduler.adapters.redis_store import RedisStore
from scheduler.notes import DiffNote, Message, ProposalNote, RunEvent, RunNote, TextNote
from scheduler.records import SlackMessage


@dataclass
class RecordingNotifier:
    """`scheduler.notes.Notifier` that records notes at once, as a Slack that never fails would show them."""

    state: RedisStore | None = None
    channel: str = "C0RELEASE"
    posted: list[Message] = field(default_factory=list)
    updated: list[tuple[Message, str]] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)

    def post(self, note: Message) -> None:
        """Record `note`; a diff starts its thread once, a proposal becomes its run's proposal message."""
        if (
            isinstance(note, DiffNote)
            and self.state is not None
            and self.state.thread(note.environment, note.thread_sha) is not None
        ):
            return
        self.posted.append(note)
        ts = f"1700000000.{len(self.posted):06d}"
        if self.state is None:
            return
        if isinstance(note, DiffNote):
            self.state.set_thread(note.environment, note.thread_sha, SlackMessage(self.channel, ts))
        elif isinstance(note, ProposalNote):
            self.state.set_proposal_message(note.run_id, SlackMessage(self.channel, ts))

    def update(self, note: RunNote) -> None:
        """Record an edit of the run's proposal message, or a post when it has none."""
        message = self.state.proposal_message(note.run_id) if self.state is not None else None
        if message is None:
            self.post(note)
        else:
            self.updated.append((note, message.ts))

    def respond(self, response_url: str, text: str, *, ephemeral: bool = True) -> None:
        """Record a response_url answer."""
        self.responses.append((response_url, text))

    def diffs(self) -> list[DiffNote]:
        """Posted diff notes."""
        return [n for n in self.posted if isinstance(n, DiffNote)]

    def proposals(self) -> list[ProposalNote]:
        """Posted proposals."""
        return [n for n in self.posted if isinstance(n, ProposalNote)]

    def texts(self) -> list[TextNote]:
        """Posted plain texts."""
        return [n for n in self.posted if isinstance(n, TextNote)]

    def events(self) -> list[RunEvent]:
        """Events of posted and updated run notes, in order."""
        notes = [n for n in self.posted if isinstance(n, RunNote)]
        notes += [n for n, _ in self.updated if isinstance(n, RunNote)]
        return [n.event for n in notes]

    def run_notes(self, event: RunEvent) -> list[RunNote]:
        """Posted or updated run notes of one event."""
        every = [n for n in self.posted if isinstance(n, RunNote)]
        every += [n for n, _ in self.updated if isinstance(n, RunNote)]
        return [n for n in every if n.event is event]
