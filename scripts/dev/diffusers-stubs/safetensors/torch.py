"""`safetensors.torch`: save_file / load_file / save / load over the stand-in's format code."""
from . import deserialize, serialize


def save(tensors, metadata=None):
    return serialize(tensors, metadata)


def load(data):
    return deserialize(data)[0]


def save_file(tensors, filename, metadata=None):
    with open(filename, 'wb') as handle:
        handle.write(serialize(tensors, metadata))


def load_file(filename, device='cpu'):
    with open(filename, 'rb') as handle:
        tensors = deserialize(handle.read())[0]
    return {name: tensor.to(device) for name, tensor in tensors.items()}
