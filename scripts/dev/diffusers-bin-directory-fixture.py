#!/usr/bin/env python3
"""
Writes packages/core/test/diffusers/fixtures/unet-bin/diffusion_pytorch_model.bin: the weights of a
safetensors file saved again the way older diffusers checkpoints are stored (google/ddpm-cifar10-32
among them): torch.save of an OrderedDict (PyTorch's zip format), float16, with the attention
weights under the deprecated names query / key / value / proj_attn.

The input is the tiny model's weights as packages/core/test/diffusers/diffusers-directory.test.ts
writes them (deterministicWeights(tinySpec()) under diffusers names, F32 safetensors; the value
formula is in packages/core/test/checkpoint/deterministic-weights.ts). torch writes the .bin; levelskip's loader must read back exactly those
values (they are k/64, exact in float16) under the current names. Development only:

    /usr/bin/python3 scripts/dev/diffusers-bin-directory-fixture.py <in.safetensors> <out.bin>
"""
import collections
import json
import re
import struct
import sys

import torch

DEPRECATED = {'to_q': 'query', 'to_k': 'key', 'to_v': 'value', 'to_out.0': 'proj_attn'}
ATTENTION = re.compile(r'^((?:down_blocks|up_blocks)\.\d+\.attentions\.\d+|mid_block\.attentions\.\d+)\.(to_q|to_k|to_v|to_out\.0)\.(weight|bias)$')


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    header.pop('__metadata__', None)
    out = collections.OrderedDict()
    for name in sorted(header):
        entry = header[name]
        assert entry['dtype'] == 'F32', entry['dtype']
        begin, end = entry['data_offsets']
        raw = bytearray(data[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(entry['shape']).clone()
    return out


def deprecated_name(name):
    match = ATTENTION.match(name)
    if match is None:
        return name
    path, layer, parameter = match.groups()
    return f'{path}.{DEPRECATED[layer]}.{parameter}'


def main():
    source, target = sys.argv[1], sys.argv[2]
    tensors = read_safetensors(source)
    state = collections.OrderedDict((deprecated_name(name), tensor.half()) for name, tensor in tensors.items())
    for name, tensor in tensors.items():
        assert torch.equal(state[deprecated_name(name)].float(), tensor), name
    torch.save(state, target)
    renamed = sum(1 for name in tensors if deprecated_name(name) != name)
    print(f'wrote {target}: {len(state)} tensors, {renamed} under deprecated attention names')


if __name__ == '__main__':
    main()
