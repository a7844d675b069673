"""huggingface_hub.utils (offline stand-in): error types and the argument-validation decorator."""
from requests import HTTPError


class HfHubHTTPError(HTTPError):
    pass


class EntryNotFoundError(HfHubHTTPError):
    pass


class LocalEntryNotFoundError(EntryNotFoundError, FileNotFoundError, ValueError):
    pass


class RepositoryNotFoundError(HfHubHTTPError):
    pass


class RevisionNotFoundError(HfHubHTTPError):
    pass


class OfflineModeIsEnabled(ConnectionError):
    pass


def validate_hf_hub_args(fn):
    return fn


def is_jinja_available():
    return False
