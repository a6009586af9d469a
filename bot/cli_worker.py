"""`pdm-bot worker` (RQ worker with scheduler on queue `pdm`) and `pdm-bot cron` (periodic evaluation).

The cron process is a plain loop, not RQ's CronScheduler: every `--interval` seconds it claims the time
slot with `SET NX` (`pdm:once:cron:tick:{slot}`), and only the claimant enqueues `evaluate` for every
environment of the policy plus one `reconcile`. Two cron processes therefore enqueue each slot once.
"""

from __future__ import annotations

import gc
import logging
import time
from datetime import datetime, timedelta

import click
import redis
from rq import Queue, Worker

from bot.cli_support import guarded
from bot.logging import configure_logging
from bot.settings import Settings
from scheduler import worker_context
from scheduler.errors import PdmError
from scheduler.policy.model import Policy
from scheduler.state import State

log = logging.getLogger(__name__)


def require_redis(connection: redis.Redis) -> None:
    """Fail with one readable line (no traceback) when Redis cannot be reached at start-up."""
    try:
        connection.ping()
    except redis.RedisError as exc:
        raise PdmError(f"cannot reach Redis: {exc}") from None


@click.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty (for tests and one-off runs).")
@guarded
def worker(burst: bool) -> None:
    """Run the RQ worker (with its scheduler) for queue `pdm`.

    \b
    Example:
      PDM_REDIS_URL=redis://redis:6379/0 pdm-bot worker
    """
    settings = Settings()
    configure_logging(settings)
    ctx = worker_context.from_settings(settings)
    require_redis(ctx.queue.connection)
    worker_context.install(ctx)
    ctx.outbox.resume(ctx.queue)  # messages owed when the last worker stopped are sent now
    gc.freeze()  # start-up objects leave the collector's view: no long full collections per job
    rq_worker = Worker([ctx.queue], connection=ctx.queue.connection)
    rq_worker.work(with_scheduler=True, burst=burst)


def cron_tick(state: State, queue: Queue, policy: Policy, at: datetime, interval: timedelta) -> bool:
    """Enqueue one round of evaluations + reconcile for the slot of `at`; False if already done."""
    slot = int(at.timestamp() // interval.total_seconds())
    if not state.claim(f"cron:tick:{slot}", interval * 2):
        return False
    for env in policy.environments:
        queue.enqueue(worker_context.JOB_PREFIX + "evaluate", env.name)
    queue.enqueue(worker_context.JOB_PREFIX + "reconcile")
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
    ctx = worker_context.from_settings(settings)
    require_redis(ctx.queue.connection)
    step = timedelta(seconds=interval)
    while True:
        try:
            if cron_tick(ctx.state, ctx.queue, ctx.policy, worker_context.clock(), step):
                log.info("cron: evaluations enqueued")
        except redis.RedisError as exc:  # a Redis outage skips this slot; the next one retries
            log.warning("cron: slot skipped, Redis unavailable: %s", exc)
        if once:
            return
        time.sleep(interval - time.time() % interval)
