"""The one key schema of pdm-bot's Redis (prefix `pdm:`): every key name is built here.

| key                                   | type   | content                                              |
|---------------------------------------|--------|------------------------------------------------------|
| pdm:env:{env}:pending                 | hash   | version → PendingRecord JSON                         |
| pdm:env:{env}:deployments             | hash   | deployment_id → Deployment JSON                      |
| pdm:env:{env}:deployments:order       | zset   | deployment_id scored by deployed_at (epoch seconds)  |
| pdm:env:{env}:deploying               | string | Deployment JSON of the deploy in progress, expires   |
| pdm:env:{env}:deploy_starts           | zset   | deployment_id scored by its start (deploy forecast); |
|                                       |        | `{id}:estimated` until its `running` status comes    |
| pdm:env:{env}:runs                    | zset   | run id scored by requested_at (history)              |
| pdm:env:{env}:last_success            | string | id of the last successful run                        |
| pdm:env:{env}:run_timings             | list   | RunTiming JSON of the newest 200 successful runs     |
| pdm:env:{env}:succeeded               | hash   | version → finished_at ISO (chain guard input)        |
| pdm:env:{env}:pause                   | string | Note JSON (actor, at, reason)                        |
| pdm:env:{env}:lock                    | string | Lock JSON, expires (PX)                              |
| pdm:env:{env}:lock:fence              | string | fencing counter (INCR on each acquisition)           |
| pdm:run:{id}                          | string | Run JSON                                             |
| pdm:run:{id}:approvals                | hash   | approver → Note JSON                                 |
| pdm:runs:active                       | set    | ids of runs not yet finished                         |
| pdm:runs:seq                          | string | counter behind run ids                               |
| pdm:pause:global                      | string | Note JSON of the global pause                        |
| pdm:holds                             | hash   | version → Note JSON                                  |
| pdm:baselines                         | hash   | env → Baseline JSON                                  |
| pdm:once:{key}                        | string | idempotency claim, expires (EX)                      |
| pdm:slack:threads                     | hash   | "{env}:{sha}" → SlackMessage JSON (package thread)   |
| pdm:slack:proposals                   | hash   | run id → SlackMessage JSON (proposal message)        |
| pdm:audit                             | stream | at, actor, action, environment, reason, details JSON |
| pdm:mutex:{name}                      | string | e.g. `evaluate:{env}`: one evaluation at a time      |
| pdm:metrics                           | hash   | counters behind /metrics (`telemetry.py`)            |
| pdm:outbox:seq                        | string | counter behind envelope ids                          |
| pdm:outbox:msg:{id}                   | string | Envelope JSON                                        |
| pdm:outbox:lane:{lane}                | list   | envelope ids in delivery order                       |
| pdm:outbox:due                        | zset   | lane → epoch seconds when its head may be tried      |
| pdm:outbox:owed                       | zset   | envelope id → epoch seconds of its creation          |
| pdm:outbox:lease:{lane}               | string | the one sender working on a lane, expires (PX)       |
| pdm:outbox:dead                       | list   | the latest 1,000 dead-lettered envelopes             |
| pdm:outbox:wake                       | string | a `deliver_notes` job is queued, not started yet     |
| pdm:outbox:wake:{epoch}               | string | a `deliver_notes` job is scheduled at that second    |
"""

from __future__ import annotations


class Keys:
    """The one place where Redis key names are built."""

    PREFIX = "pdm"
    METRICS = f"{PREFIX}:metrics"

    @classmethod
    def env(cls, env: str, part: str) -> str:
        """A per-environment key such as `pdm:env:gprd:pending`."""
        return f"{cls.PREFIX}:env:{env}:{part}"

    @classmethod
    def env_of(cls, key: str) -> str | None:
        """The environment of a per-environment key (None for other keys)."""
        head = f"{cls.PREFIX}:env:"
        return key[len(head) :].split(":", 1)[0] if key.startswith(head) else None

    @classmethod
    def run(cls, run_id: str) -> str:
        """The record of one run."""
        return f"{cls.PREFIX}:run:{run_id}"

    @classmethod
    def approvals(cls, run_id: str) -> str:
        """The approvals of one run."""
        return f"{cls.PREFIX}:run:{run_id}:approvals"

    @classmethod
    def once(cls, key: str) -> str:
        """An idempotency claim."""
        return f"{cls.PREFIX}:once:{key}"

    @classmethod
    def mutex(cls, name: str) -> str:
        """A mutual-exclusion lock such as `pdm:mutex:evaluate:gprd`."""
        return f"{cls.PREFIX}:mutex:{name}"

    @classmethod
    def outbox(cls, *parts: str) -> str:
        """A key of the Slack outbox such as `pdm:outbox:lane:{lane}`."""
        return ":".join((cls.PREFIX, "outbox", *parts))

    @classmethod
    def named(cls, name: str) -> str:
        """A global key such as `pdm:holds`, `pdm:runs:active` or `pdm:audit`."""
        return f"{cls.PREFIX}:{name}"
