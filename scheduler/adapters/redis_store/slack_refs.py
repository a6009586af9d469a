"""Where the bot's Slack messages live: package thread roots and proposal messages."""

from __future__ import annotations

from scheduler.adapters.redis_codec import dump, load
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.records import SlackMessage


class SlackRefStore(StoreBase):
    """Thread roots per package and proposal messages per run."""

    def set_thread(self, env: str, sha: str, message: SlackMessage) -> bool:
        """Remember the root message of a package's thread; False if one is already known."""
        return bool(self.r.hsetnx(Keys.named("slack:threads"), f"{env}:{sha}", dump(message)))

    def thread(self, env: str, sha: str) -> SlackMessage | None:
        """The root message of the thread of package `sha` in `env`."""
        return load(SlackMessage.from_dict, self.r.hget(Keys.named("slack:threads"), f"{env}:{sha}"))

    def set_proposal_message(self, run_id: str, message: SlackMessage) -> None:
        """Remember the proposal message of a run (to update it later)."""
        self.r.hset(Keys.named("slack:proposals"), run_id, dump(message))

    def proposal_message(self, run_id: str) -> SlackMessage | None:
        """The proposal message of a run."""
        return load(SlackMessage.from_dict, self.r.hget(Keys.named("slack:proposals"), run_id))
