"""huggingface_hub._commit_api (offline stand-in)."""


class CommitOperationAdd:
    def __init__(self, *args, **kwargs):
        raise RuntimeError('huggingface_hub.CommitOperationAdd is not available in the offline stand-in')
