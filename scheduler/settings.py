"""Process settings from `PDM_*` environment variables (the README documents each)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything but credentials has a working default."""

    model_config = SettingsConfigDict(env_prefix="PDM_", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: SecretStr = SecretStr("")
    # Comma-separated `host:port` Sentinel addresses; when set, Redis is reached through Sentinel
    # (master `redis_sentinel_master`, db and password from `redis_url` / `redis_password`).
    redis_sentinels: str = ""
    redis_sentinel_master: str = "mymaster"
    slack_bot_token: SecretStr = SecretStr("")
    slack_signing_secret: SecretStr = SecretStr("")
    slack_api_url: str = "https://slack.com/api/"
    slack_channel: str = ""
    gitlab_url: str = "https://gitlab.com"
    gitlab_token: SecretStr = SecretStr("")
    gitlab_project: str = ""
    gitlab_pipeline_project: str = ""
    gitlab_pipeline_ref: str = "master"
    gitlab_webhook_secret: SecretStr = SecretStr("")
    # Seconds python-gitlab waits for each GitLab answer. After a pipeline POST whose outcome is unknown
    # (5xx, timeout), pdm-bot only looks the pipeline up (by PDM_RUN_ID) for `gitlab_create_settle_seconds`
    # before it may POST again: GitLab may still be creating it (its own request timeout is 60 s).
    gitlab_timeout_seconds: float = Field(default=10.0, gt=0)
    gitlab_create_settle_seconds: int = Field(default=60, ge=0)
    policy_file: str = "examples/policy.yaml"
    port: int = 3000
    grafana_url: str = ""
    grafana_token: SecretStr = SecretStr("")
    # Bearer token and timeout of the Prometheus queried by the `max_db_load` guard (URL in the policy).
    prometheus_token: SecretStr = SecretStr("")
    prometheus_timeout_seconds: float = 5.0
    database_main_dsn: SecretStr = SecretStr("")
    database_ci_dsn: SecretStr = SecretStr("")
    log_level: str = "INFO"
    # Worker timings: auto runs are announced this long before they start; the environment lock of a
    # run expires after this long without renewal (a crashed worker); pipelines are polled this often.
    starting_soon_seconds: int = 300
    run_lock_ttl_seconds: int = 300
    poll_interval_seconds: int = 20
    # The "deploy in progress" mark of a `running` deployment event expires this long after the event's
    # `status_changed_at`, even when its `success`/`failed`/`canceled` never arrives.
    deploy_marker_ttl_seconds: int = Field(default=14400, gt=0)
    # `pdm-bot serve` only: connect and socket timeout of its Redis client (no retries), so that a hung
    # Redis costs a Slack request well under Slack's 3 s before it is answered "state store unavailable".
    redis_web_timeout_seconds: float = Field(default=0.5, gt=0)
    # Wall-clock budget of one evaluation's decision; an overrun is aborted, audited and reported.
    evaluation_budget_seconds: float = 30.0
    # The Slack outbox: a message the bot owes is retried until it is delivered or this deadline passes
    # (then it is dead-lettered and audited); retries wait Slack's Retry-After, else an exponential
    # back-off from the base, doubling per attempt, capped at the maximum.
    slack_outbox_deadline_seconds: float = Field(default=86400, gt=0)
    slack_retry_base_seconds: float = Field(default=1, gt=0)
    slack_retry_max_seconds: float = Field(default=300, gt=0)
