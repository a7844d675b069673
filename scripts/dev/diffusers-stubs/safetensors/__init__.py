"""A pure-Python stand-in for the `safetensors` package (the file format, PyTorch only).

Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
then the tensors' raw little-endian bytes, offsets relative to the end of the header.
"""
import json
import struct

import torch as _torch  # not `torch`: importing the submodule safetensors.torch rebinds that name here

__version__ = '0.4.5'

_DTYPES = {
    'F64': _torch.float64,
    'F32': _torch.float32,
    'F16': _torch.float16,
    'BF16': _torch.bfloat16,
    'I64': _torch.int64,
    'I32': _torch.int32,
    'I16': _torch.int16,
    'I8': _torch.int8,
    'U8': _torch.uint8,
    'BOOL': _torch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


class SafetensorError(Exception):
    pass


def _tensor_bytes(tensor):
    tensor = tensor.detach().contiguous().cpu()
    if tensor.numel() == 0:
        return b''
    # Through uint8 so that bfloat16 (which numpy lacks) works too.
    return tensor.view(-1).view(_torch.uint8).numpy().tobytes()


def serialize(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors` (a dict name -> torch.Tensor)."""
    header = {}
    chunks = []
    offset = 0
    # The real library orders by dtype alignment then name; any order is valid for readers.
    for name in sorted(tensors):
        tensor = tensors[name]
        if tensor.dtype not in _NAMES:
            raise SafetensorError(f'unsupported dtype {tensor.dtype} of {name}')
        data = _tensor_bytes(tensor)
        header[name] = {'dtype': _NAMES[tensor.dtype], 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(chunks)


def deserialize(data):
    """(tensors dict, metadata dict or None) from the bytes of a safetensors file."""
    if len(data) < 8:
        raise SafetensorError('file too short')
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length].decode('utf-8'))
    metadata = header.pop('__metadata__', None)
    start = 8 + length
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES[info['dtype']]
        begin, end = info['data_offsets']
        raw = bytearray(data[start + begin:start + end])
        if len(raw) == 0:
            tensors[name] = _torch.zeros(info['shape'], dtype=dtype)
        else:
            tensors[name] = _torch.frombuffer(raw, dtype=_torch.uint8).view(dtype).reshape(info['shape']).clone()
    return tensors, metadata


class safe_open:
    """`with safe_open(path, framework='pt', device='cpu') as f: f.keys(), f.get_tensor(name), f.metadata()`."""

    def __init__(self, filename, framework='pt', device='cpu'):
        if framework not in ('pt', 'torch'):
            raise SafetensorError(f'framework {framework!r} is not supported by this stand-in')
        with open(filename, 'rb') as handle:
            self._tensors, self._metadata = deserialize(handle.read())
        self._device = device

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return list(self._tensors.keys())

    def metadata(self):
        return self._metadata

    def get_tensor(self, name):
        return self._tensors[name].to(self._device)

    def get_slice(self, name):
        return self._tensors[name]


# diffusers calls safetensors.torch.load_file after a plain `import safetensors`.
from . import torch  # noqa: E402,F401
