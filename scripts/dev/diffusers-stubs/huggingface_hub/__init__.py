"""An offline stand-in for `huggingface_hub`: the names diffusers v0.31 imports at module level.

Only local directories are used by levelskip's dev scripts, so nothing here talks to a network:
the hub functions raise `OfflineStub` when called. `split_torch_state_dict_into_shards` is real
enough for `save_pretrained` of small models: everything goes into one file (no sharding).
"""
from dataclasses import dataclass, field

__version__ = '0.25.2'


class OfflineStub(RuntimeError):
    pass


def _offline(name):
    def call(*args, **kwargs):
        raise OfflineStub(f'huggingface_hub.{name} is not available in the offline stand-in (local directories only)')

    call.__name__ = name
    return call


create_repo = _offline('create_repo')
create_commit = _offline('create_commit')
hf_hub_download = _offline('hf_hub_download')
model_info = _offline('model_info')
snapshot_download = _offline('snapshot_download')
upload_folder = _offline('upload_folder')


class ModelCard:
    def __init__(self, *args, **kwargs):
        raise OfflineStub('huggingface_hub.ModelCard is not available in the offline stand-in')

    @classmethod
    def load(cls, *args, **kwargs):
        raise OfflineStub('huggingface_hub.ModelCard is not available in the offline stand-in')


class ModelCardData:
    def __init__(self, *args, **kwargs):
        raise OfflineStub('huggingface_hub.ModelCardData is not available in the offline stand-in')


@dataclass
class StateDictSplit:
    is_sharded: bool
    metadata: dict
    filename_to_tensors: dict
    tensor_to_filename: dict = field(default_factory=dict)


def split_torch_state_dict_into_shards(state_dict, *, filename_pattern='model{suffix}.safetensors', max_shard_size=None):
    """One shard holding every tensor (the models saved here are far below any shard size)."""
    filename = filename_pattern.format(suffix='')
    names = list(state_dict.keys())
    return StateDictSplit(
        is_sharded=False,
        metadata={},
        filename_to_tensors={filename: names},
        tensor_to_filename={name: filename for name in names},
    )
