"""The RQ queue and the jobs on it, named once (docs/jobs.md). A job is enqueued by its dotted name,
so these values must stay importable for jobs already queued in Redis when pdm-bot is upgraded."""

from __future__ import annotations

from enum import StrEnum

QUEUE_NAME = "pdm"


class JobName(StrEnum):
    """Dotted names of the entry points in `scheduler/jobs.py`."""

    ON_DEPLOY = "scheduler.jobs.on_deploy"
    DEPLOY_STARTED = "scheduler.jobs.deploy_started"
    DEPLOY_ENDED = "scheduler.jobs.deploy_ended"
    EVALUATE = "scheduler.jobs.evaluate"
    REQUEST_RUN = "scheduler.jobs.request_run"
    APPROVE = "scheduler.jobs.approve"
    REJECT = "scheduler.jobs.reject"
    SNOOZE = "scheduler.jobs.snooze"
    EXECUTE = "scheduler.jobs.execute"
    POLL = "scheduler.jobs.poll"
    RECONCILE = "scheduler.jobs.reconcile"
    DELIVER_NOTES = "scheduler.jobs.deliver_notes"
    PAUSE = "scheduler.jobs.pause"
    RESUME = "scheduler.jobs.resume"
    HOLD = "scheduler.jobs.hold"
    UNHOLD = "scheduler.jobs.unhold"
    SET_BASELINE = "scheduler.jobs.set_baseline"

    @property
    def short(self) -> str:
        """The function name alone, e.g. `evaluate`."""
        return self.value.rsplit(".", 1)[1]
