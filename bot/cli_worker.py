"""`pdm-bot worker` (RQ worker with scheduler on queue `pdm`) and `pdm-bot cron` (periodic evaluation).

The cron process is a plain loop, not RQ's CronScheduler: every `--interval` seconds it claims the time
slot with `SET NX` (`pdm:once:cron:tick:{slot}`), and only the claimant enqueues `evaluate` for every
environment of the policy plus one `reconcile`. Two cron processes therefore enqueue each slot once.

Both ride out Redis outages (`bot.redis_outage`): they wait for Redis with back-off instead of exiting,
and exit non-zero only on a configuration error (or, with `--burst` / `--once`, when Redis is down).
"""

from __future__ import annotations

import gc
import logging
import time
from contextlib import suppress
from datetime import datetime, timedelta
from types import FrameType

import click
import redis
from rq import Worker

from bot.cli_support import guarded
from bot.logging import configure_logging
from bot.redis_outage import wait_for_redis
from bot.slack_client import SlackTransport, UsergroupDirectory, make_web_client
from scheduler import bootstrap
from scheduler.errors import PdmError
from scheduler.jobnames import JobName
from scheduler.policy.model import Policy
from scheduler.ports import JobQueue, LockPort
from scheduler.service.context import clock
from scheduler.settings import Settings

log = logging.getLogger(__name__)

WORKER_TTL = 60  # RQ's BLPOP waits 45 s and its socket timeout is 55 s: a hung Redis is noticed in a minute
MAINTENANCE_INTERVAL = 60  # RQ restarts a scheduler process that died with Redis at most this late


def require_redis(connection: redis.Redis) -> None:
    """Fail with one readable line (no traceback) when Redis cannot be reached at start-up."""
    try:
        connection.ping()
    except redis.RedisError as exc:
        raise PdmError(f"cannot reach Redis: {exc}") from None


class PdmWorker(Worker):
    """RQ's worker, remembering whether a signal asked it to stop: otherwise its work loop ended on a
    Redis fault ("unhandled exception, quitting"), and `pdm-bot worker` starts it again."""

    stop_signalled = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signalled = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]


def _work(rq_worker: PdmWorker, burst: bool) -> bool:
    """One RQ work loop; True when it ended as asked (burst done, signal), False on a Redis fault."""
    try:
        rq_worker.work(with_scheduler=True, burst=burst)
    except (redis.RedisError, OSError) as exc:  # RQ's teardown could not register the end of the loop
        log.warning("worker: RQ work loop ended on %s", type(exc).__name__)
    return burst or rq_worker.stop_signalled


@click.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty (for tests and one-off runs).")
@guarded
def worker(burst: bool) -> None:
    """Run the RQ worker (with its scheduler) for queue `pdm`.

    Without --burst it rides out Redis outages and restarts: it waits for Redis with back-off (1 s … 30 s)
    and starts a new RQ work loop when one ended on a Redis fault.

    \b
    Example:
      PDM_REDIS_URL=redis://redis:6379/0 pdm-bot worker
    """
    settings = Settings()
    configure_logging(settings)
    client = make_web_client(settings)
    ctx = bootstrap.from_settings(
        settings,
        slack=SlackTransport(make_web_client(settings, retries=False), settings.slack_channel, clock=clock),
        directory=UsergroupDirectory(client),
    )
    queue = bootstrap.rq_queue(ctx)
    connection = queue.connection
    if burst:
        require_redis(connection)
    bootstrap.install(ctx)
    gc.freeze()  # start-up objects leave the collector's view: no long full collections per job
    ended: PdmWorker | None = None
    while True:
        if not burst:
            wait_for_redis(connection.ping, "worker")
        with suppress(redis.RedisError):  # a Redis fault right now: the next loop resumes them
            ctx.outbox.resume(ctx.queue)  # messages owed when the last worker stopped are sent now
        if ended is not None and ended.scheduler is not None:  # the next scheduler takes the lock at once
            with suppress(redis.RedisError):
                ended.scheduler.release_locks()  # type: ignore[no-untyped-call]
        rq_worker = PdmWorker(
            [queue],
            connection=connection,
            worker_ttl=WORKER_TTL,
            maintenance_interval=MAINTENANCE_INTERVAL,
        )
        if _work(rq_worker, burst):
            return
        log.warning("worker: a Redis fault ended the RQ work loop; a new one starts once Redis answers")
        ended = rq_worker


def cron_tick(state: LockPort, queue: JobQueue, policy: Policy, at: datetime, interval: timedelta) -> bool:
    """Enqueue one round of evaluations + reconcile for the slot of `at`; False if already done."""
    slot = int(at.timestamp() // interval.total_seconds())
    if not state.claim(f"cron:tick:{slot}", interval * 2):
        return False
    for env in policy.environments:
        queue.enqueue(JobName.EVALUATE.value, env.name)
    queue.enqueue(JobName.RECONCILE.value)
    return True


@click.command()
@click.option(
    "--interval", default=60, show_default=True, type=click.IntRange(min=5), help="Seconds per slot."
)
@click.option("--once", is_flag=True, help="Run one slot and exit.")
@guarded
def cron(interval: int, once: bool) -> None:
    """Enqueue `evaluate` for every environment and `reconcile`, once per slot (safe with two instances).

    \b
    Example:
      pdm-bot cron --interval 60
    """
    settings = Settings()
    configure_logging(settings)
    ctx = bootstrap.from_settings(settings)
    if once:
        require_redis(bootstrap.rq_queue(ctx).connection)
    else:
        wait_for_redis(bootstrap.rq_queue(ctx).connection.ping, "cron")
    step = timedelta(seconds=interval)
    while True:
        try:
            if cron_tick(ctx.state, ctx.queue, ctx.policy, clock(), step):
                log.info("cron: evaluations enqueued")
        except (redis.AuthenticationError, redis.ResponseError) as exc:
            raise PdmError(f"Redis refused cron: {exc}") from None
        except (redis.RedisError, OSError) as exc:  # an outage skips this slot; the next one retries
            log.warning("cron: slot skipped, Redis unavailable: %s", exc)
        if once:
            return
        time.sleep(interval - time.time() % interval)
