"""Named errors of the domain and the worker; every edge translates them once for its user."""


class PdmError(Exception):
    """Base of every error pdm-bot reports to a human with its message."""


class PolicyError(PdmError):
    """The policy file is missing, unreadable or invalid (the message lists every problem)."""


class UnknownEnvironment(PdmError):
    """An environment name that the policy does not define."""


class ScenarioError(PdmError):
    """A simulation scenario is unreadable or invalid."""


class RepositoryError(PdmError):
    """A local git repository or revision could not be read."""


class InputError(PdmError):
    """A path or argument given by the user cannot be used."""


class InvalidRunTransition(PdmError):
    """A run was asked to move to a status its current status cannot reach."""


class RunConflict(InvalidRunTransition):
    """A run would take migrations that belong to another approved, triggered or running run."""


class UnknownRun(PdmError):
    """No run is stored under the given id."""


class GitLabError(PdmError):
    """A GitLab API call failed (base of the GitLab errors; messages never contain the token)."""


class GitLabAuthError(GitLabError):
    """GitLab refused the token (HTTP 401 or 403): permanent until the token or its scopes change."""


class GitLabNotFound(GitLabError):
    """A GitLab project, file, commit, pipeline or environment does not exist (HTTP 404)."""


class GitLabTransientError(GitLabError):
    """GitLab stayed unreachable, slow or in 5xx/429 after the retries: worth retrying later."""


class GitLabOutcomeUnknown(GitLabTransientError):
    """A write (the pipeline POST) may have reached GitLab but got no usable answer (5xx, timeout, broken
    connection): GitLab may have done it. Look the result up before sending it again."""


class GitLabRequestError(GitLabError):
    """GitLab rejected a request (another 4xx): permanent until the request changes."""


class PendingSourceError(PdmError):
    """A source of pending migrations (git history or a database) cannot answer."""


class MetricsSourceError(PdmError):
    """A metrics query (Prometheus) failed: unreachable, slow, refused, or no usable number in the answer."""


class MetricsNoData(MetricsSourceError):
    """A metrics query succeeded but returned no sample (a metric not scraped, labels matching nothing)."""


class DeliveryError(PdmError):
    """A message could not be delivered to humans (Slack). `retry_after`: seconds the service asked to
    wait; `permanent`: retrying the same message cannot help; `gone`: the message to edit no longer exists.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False, gone: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent or gone
        self.gone = gone
