"""Deployments per environment: history, the deploy-in-progress marker, deploy starts (forecast input)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scheduler.adapters.redis_codec import dump, load, millis, records, remaining, starts, text
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.records import DEPLOY_MARKER_TTL, Deployment, DeploymentStatus

DEPLOY_STARTS_KEPT = timedelta(days=400)  # the longest deploy-forecast lookback a policy can ask for
ESTIMATED_SUFFIX = ":estimated"  # member of a start estimated from the deployment's success


class DeploymentQueries(StoreBase):
    """Reads of deployments."""

    def deploy_starts(self, env: str) -> list[datetime]:
        """Recorded deploy starts of `env`, oldest first."""
        return starts(self.r.zrange(Keys.env(env, "deploy_starts"), 0, -1, withscores=True))

    def deployments(self, env: str, limit: int = 20) -> list[Deployment]:
        """Deployment history of `env`, newest first."""
        ids = self.r.zrevrange(Keys.env(env, "deployments:order"), 0, limit - 1)
        if not ids:
            return []
        return records(
            Deployment.from_dict, self.r.hmget(Keys.env(env, "deployments"), [text(i) for i in ids])
        )

    def last_deployment(
        self, env: str, status: DeploymentStatus = DeploymentStatus.SUCCESS
    ) -> Deployment | None:
        """The newest deployment of `env` in `status`."""
        for deployment in self.deployments(env, limit=200):
            if deployment.status is status:
                return deployment
        return None

    def deployment_in_progress(self, env: str) -> Deployment | None:
        """The running deployment of `env`, if any."""
        return load(Deployment.from_dict, self.r.get(Keys.env(env, "deploying")))

    def deploy_marker_expires_in(self, env: str) -> timedelta | None:
        """How long the "deploy in progress" marker of `env` has left (None: no marker)."""
        return remaining(self.r.pttl(Keys.env(env, "deploying")))


class DeploymentStore(DeploymentQueries):
    """Reads and writes of deployments."""

    def record_deployment(
        self, env: str, deployment: Deployment, marker_ttl: timedelta = DEPLOY_MARKER_TTL
    ) -> Deployment | None:
        """Store a deployment status change unless it is stale, and keep the "deploy in progress"
        marker in step; returns the newer recorded status that made `deployment` stale (nothing is
        written then), else None.

        Per deployment the latest status by `status_changed_at` (status rank for equal times) wins, so a
        `running` delivered after the `success` of the same deployment changes nothing. A `running`
        status sets the marker with an expiry of `marker_ttl` (none when it is not positive); a
        finished status clears the marker of its own deployment or of an older one.
        """
        marker, history = Keys.env(env, "deploying"), Keys.env(env, "deployments")
        dep_id = str(deployment.deployment_id)

        def write(pipe: Any) -> Deployment | None:
            recorded = load(Deployment.from_dict, pipe.hget(history, dep_id))
            if recorded is not None and deployment.is_stale_after(recorded):
                return recorded
            current = load(Deployment.from_dict, pipe.get(marker))
            mine_or_older = current is not None and (
                current.deployment_id == deployment.deployment_id
                or current.deployed_at <= deployment.deployed_at
            )
            pipe.multi()
            pipe.hset(history, dep_id, dump(deployment))
            pipe.zadd(Keys.env(env, "deployments:order"), {dep_id: deployment.deployed_at.timestamp()})
            if deployment.status is DeploymentStatus.RUNNING:
                if marker_ttl > timedelta(0) and (current is None or mine_or_older):
                    pipe.set(marker, dump(deployment), px=millis(marker_ttl))
            elif deployment.status.is_finished and mine_or_older:
                pipe.delete(marker)
            return None

        stale: Deployment | None = self.r.transaction(write, marker, history, value_from_callable=True)
        return stale

    def record_deploy_start(
        self, env: str, deployment_id: int, at: datetime, *, estimated: bool = False
    ) -> None:
        """Remember when a deploy of `env` started (the deploy forecast learns from these); starts older
        than `DEPLOY_STARTS_KEPT` are dropped. The first reported start of a deployment stays. An
        `estimated` start (a deployment whose `running` status never came) counts only until the
        reported one arrives, which replaces it."""
        key, member = Keys.env(env, "deploy_starts"), str(deployment_id)
        guess = f"{member}{ESTIMATED_SUFFIX}"

        def write(pipe: Any) -> None:
            if estimated and pipe.zscore(key, member) is not None:
                return
            pipe.multi()
            if estimated:
                pipe.zadd(key, {guess: at.timestamp()}, nx=True)
            else:
                pipe.zrem(key, guess)
                pipe.zadd(key, {member: at.timestamp()}, nx=True)
            pipe.zremrangebyscore(key, "-inf", (at - DEPLOY_STARTS_KEPT).timestamp())

        self.r.transaction(write, key)
