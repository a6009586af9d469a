"""The GitLab adapter: the only module that imports python-gitlab.

Errors come out as `GitLabAuthError` (401/403), `GitLabNotFound` (404), `GitLabTransientError` (5xx, 429,
timeouts, connection failures once python-gitlab's retries are spent) or `GitLabRequestError` (other 4xx);
messages never contain the token.

Reads are retried by python-gitlab (5xx, 429, timeouts; `max_retries`). Writes never are: python-gitlab
re-sends a POST after a 5xx or a timeout, and GitLab may have done the first one (two PDM pipelines). A
write that may have reached GitLab without a usable answer (5xx, timeout, broken connection) raises
`GitLabOutcomeUnknown`: the caller looks the result up before it writes again (`service/execution.py`).

Finding our pipelines: the PDM pipeline is created through the API (`source` = `api`) on the
pipeline project's ref with a `PDM_ENVIRONMENT` variable. GitLab cannot filter pipelines by
variable, so `pdm_pipelines` lists the ref's pipelines (newest first, optionally since a moment and
from one source) and keeps those whose variables include `PDM_ENVIRONMENT`; leaving `source` unset also
finds PDM pipelines that people started by hand (`web`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import gitlab
import gitlab.exceptions
import requests
import urllib3.exceptions

from scheduler.adapters.redis_telemetry import count_api_error
from scheduler.errors import (
    GitLabAuthError,
    GitLabError,
    GitLabNotFound,
    GitLabOutcomeUnknown,
    GitLabRequestError,
    GitLabTransientError,
)
from scheduler.gitlab_model import (
    FULL_SHA,
    POST_MIGRATE_DIR,
    GitLabDeployment,
    IncidentIssue,
    MigrationDiff,
    Pipeline,
    is_post_migration,
    post_migration_diff,
)
from scheduler.settings import Settings

SAFE_VERBS = frozenset({"get", "head"})
OUTCOME_UNKNOWN = "; GitLab may have done it anyway (outcome unknown)"


def _when(value: Any) -> datetime | None:
    return None if not value else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class _Gitlab(gitlab.Gitlab):
    """python-gitlab's client with a small retry budget on reads (its default is 10 retries) and none on
    writes: a write re-sent after a 5xx or a timeout may be done twice."""

    def __init__(self, *args: Any, max_retries: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pdm_max_retries = max_retries

    def http_request(self, verb: str, path: str, *args: Any, **kwargs: Any) -> Any:
        if verb.lower() in SAFE_VERBS:
            kwargs.setdefault("max_retries", self.pdm_max_retries)
        else:
            kwargs.update(retry_transient_errors=False, obey_rate_limit=False, max_retries=0)
        return super().http_request(verb, path, *args, **kwargs)


def _never_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request cannot have reached GitLab: no connection was ever made."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


class GitLabAdapter:
    """Everything pdm-bot asks GitLab, with errors mapped to `scheduler.errors`."""

    def __init__(
        self,
        url: str,
        token: str,
        project: str,
        pipeline_project: str,
        pipeline_ref: str,
        *,
        incident_project: str = "",
        incident_labels: Sequence[str] = (),
        timeout: float = 10.0,
        max_retries: int = 3,
    ) -> None:
        self._token = token
        self._gl = _Gitlab(
            url, private_token=token, timeout=timeout, retry_transient_errors=True, max_retries=max_retries
        )
        self._project = self._gl.projects.get(project, lazy=True)
        self._pipeline_project = self._gl.projects.get(pipeline_project or project, lazy=True)
        self.pipeline_ref = pipeline_ref
        self._incidents = self._gl.projects.get(incident_project, lazy=True) if incident_project else None
        self.incident_labels = list(incident_labels)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, incident_project: str = "", incident_labels: Sequence[str] = ()
    ) -> GitLabAdapter:
        """An adapter configured from `PDM_GITLAB_*` settings."""
        return cls(
            settings.gitlab_url,
            settings.gitlab_token.get_secret_value(),
            settings.gitlab_project,
            settings.gitlab_pipeline_project,
            settings.gitlab_pipeline_ref,
            incident_project=incident_project,
            incident_labels=incident_labels,
            timeout=settings.gitlab_timeout_seconds,
        )

    @contextmanager
    def _calling(self, what: str, *, write: bool = False) -> Iterator[None]:
        try:
            yield
        except gitlab.exceptions.GitlabError as exc:
            count_api_error("gitlab", f"http_{exc.response_code}" if exc.response_code else "no_status")
            raise self._translate(what, exc.response_code, exc.error_message, write) from None
        except requests.exceptions.RequestException as exc:
            count_api_error("gitlab", "connection")
            detail = self._scrub(f"GitLab {what}: no answer ({type(exc).__name__})")
            if write and not _never_sent(exc):
                raise GitLabOutcomeUnknown(detail + OUTCOME_UNKNOWN) from None
            raise GitLabTransientError(detail) from None

    def _translate(self, what: str, code: int | None, message: Any, write: bool) -> GitLabError:
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        detail = self._scrub(f"GitLab {what}: HTTP {code}: {text[:200]}")
        if code in (401, 403):
            return GitLabAuthError(f"{detail} (check PDM_GITLAB_TOKEN and its api scope)")
        if code == 404:
            return GitLabNotFound(detail)
        if code is None or code >= 500:
            return GitLabOutcomeUnknown(detail + OUTCOME_UNKNOWN) if write else GitLabTransientError(detail)
        if code == 429 or (code == 409 and "Resource lock" in text):
            return GitLabTransientError(detail)  # refused before any work: safe to send again
        return GitLabRequestError(detail)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    def compare(self, from_sha: str, to_sha: str) -> MigrationDiff:
        """Post-deploy migrations added, modified and deleted between two SHAs."""
        with self._calling(f"compare {from_sha[:12]}...{to_sha[:12]}"):
            answer = self._project.repository_compare(from_sha, to_sha)
        diffs = answer.get("diffs", []) if isinstance(answer, dict) else []
        return post_migration_diff(from_sha, to_sha, diffs)

    def file_text(self, path: str, sha: str) -> str:
        """The content of `path` at `sha`."""
        with self._calling(f"file {path} at {sha[:12]}"):
            raw = self._project.files.raw(file_path=path, ref=sha)
        return bytes(raw).decode("utf-8", errors="replace")

    def post_migrations_at(self, sha: str) -> list[str]:
        """Paths of every `db/post_migrate/*.rb` file at `sha`, sorted."""
        with self._calling(f"tree {POST_MIGRATE_DIR} at {sha[:12]}"):
            items = list(self._project.repository_tree(path=POST_MIGRATE_DIR, ref=sha, iterator=True))
        return sorted(
            str(i["path"]) for i in items if i.get("type") == "blob" and is_post_migration(i["path"])
        )

    def resolve_sha(self, ref: str) -> str:
        """The full 40-character SHA of a short SHA (or any ref)."""
        with self._calling(f"commit {ref}"):
            sha = str(self._project.commits.get(ref).id)
        if not FULL_SHA.fullmatch(sha):
            raise GitLabRequestError(f"GitLab commit {ref}: answer has no full SHA")
        return sha

    def deployments(
        self, environment: str, status: str | None = None, limit: int = 100
    ) -> list[GitLabDeployment]:
        """Deployments of `environment`, newest first (only `status` ones if given), at most `limit`."""
        filters: dict[str, Any] = {"environment": environment, "order_by": "id", "sort": "desc"}
        if status:
            filters["status"] = status
        found: list[GitLabDeployment] = []
        with self._calling(f"deployments of {environment}"):
            for item in self._project.deployments.list(iterator=True, **filters):
                found.append(_deployment(item.attributes))
                if len(found) >= limit:
                    break
        return found

    def running_deployments(self, environment: str) -> list[GitLabDeployment]:
        """Deployments of `environment` running now."""
        return self.deployments(environment, status="running")

    def create_pipeline(
        self, environment: str, target_sha: str, up_to_version: str, extras: Mapping[str, str] | None = None
    ) -> Pipeline:
        """Create the PDM pipeline on the pipeline project's ref (contract variables + `extras`), sent once:
        raises `GitLabOutcomeUnknown` when GitLab may have created it without saying so."""
        if not FULL_SHA.fullmatch(target_sha):
            raise GitLabRequestError(f"PDM_TARGET_SHA must be a full 40-character SHA, got '{target_sha}'")
        variables = {
            **(extras or {}),
            "PDM_ENVIRONMENT": environment,
            "PDM_TARGET_SHA": target_sha,
            "PDM_MIGRATION_VERSION": up_to_version,
        }
        payload = {
            "ref": self.pipeline_ref,
            "variables": [{"key": k, "value": v} for k, v in variables.items()],
        }
        with self._calling(f"create pipeline for {environment}", write=True):
            created = self._pipeline_project.pipelines.create(payload)
        return _pipeline(created.attributes, variables)

    def pipeline(self, pipeline_id: int) -> Pipeline:
        """The current state of a pipeline of the pipeline project."""
        with self._calling(f"pipeline {pipeline_id}"):
            found = self._pipeline_project.pipelines.get(pipeline_id)
        return _pipeline(found.attributes, {})

    def pdm_pipelines(
        self,
        environment: str | None = None,
        *,
        updated_after: datetime | None = None,
        source: str | None = None,
        limit: int = 50,
    ) -> list[Pipeline]:
        """PDM pipelines on the pipeline ref, newest first (see the module docstring), with variables."""
        filters: dict[str, Any] = {"ref": self.pipeline_ref, "order_by": "id", "sort": "desc"}
        if updated_after is not None:
            filters["updated_after"] = updated_after.isoformat()
        if source:
            filters["source"] = source
        found: list[Pipeline] = []
        with self._calling("list PDM pipelines"):
            for item in self._pipeline_project.pipelines.list(iterator=True, **filters):
                variables = {v.key: v.value for v in item.variables.list(get_all=True)}
                wanted = variables.get("PDM_ENVIRONMENT")
                if wanted is not None and environment in (None, wanted):
                    found.append(_pipeline(item.attributes, variables))
                if len(found) >= limit:
                    break
        return found

    def open_incidents(self) -> list[IncidentIssue] | None:
        """Open incident issues carrying every configured label; None when no incident project is set."""
        if self._incidents is None:
            return None
        with self._calling("list open incidents"):
            items = self._incidents.issues.list(
                state="opened", issue_type="incident", labels=self.incident_labels, get_all=True
            )
        return [
            IncidentIssue(
                int(i.iid),
                str(i.title),
                str(i.web_url),
                tuple(i.labels),
                _when(i.attributes.get("created_at")),
            )
            for i in items
        ]


def _deployment(data: Mapping[str, Any]) -> GitLabDeployment:
    created = datetime.fromisoformat(str(data["created_at"]).replace("Z", "+00:00"))
    return GitLabDeployment(
        id=int(data["id"]),
        environment=str((data.get("environment") or {}).get("name", "")),
        sha=str(data["sha"]),
        ref=str(data.get("ref", "")),
        status=str(data["status"]),
        created_at=created,
        updated_at=_when(data.get("updated_at")) or created,
    )


def _pipeline(data: Mapping[str, Any], variables: Mapping[str, str]) -> Pipeline:
    return Pipeline(
        id=int(data["id"]),
        status=str(data["status"]),
        web_url=str(data.get("web_url", "")),
        ref=str(data.get("ref", "")),
        sha=str(data.get("sha", "")),
        source=str(data.get("source", "")),
        created_at=_when(data.get("created_at")),
        variables=dict(variables),
    )
