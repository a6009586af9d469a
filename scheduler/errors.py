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
