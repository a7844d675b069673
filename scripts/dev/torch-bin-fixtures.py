#!/usr/bin/env python3
"""Write the PyTorch ``.bin`` fixtures of @levelskip/core's restricted unpickler tests.

Every readable fixture is written by ``torch.save`` itself; the expected values next to them
(``expected.json``) come from torch's own tensors (``tensor.float().contiguous().flatten()``), so
the tests compare the TypeScript reader against torch, not against itself.

The hostile fixtures are pickles that would run code if Python's ``pickle`` / ``torch.load``
(without ``weights_only``) loaded them. They are assembled from raw opcode bytes and stored with
torch's zip writer (``torch._C.PyTorchFileWriter``), so they have the exact layout of a real
``torch.save`` file. Nothing here ever unpickles them: do not ``torch.load`` these files.

Usage: /usr/bin/python3 scripts/dev/torch-bin-fixtures.py [OUT_DIR]
       (default OUT_DIR: packages/core/test/fixtures/torch-bin; needs Debian's python3-torch)
"""
import collections
import io
import json
import os
import pathlib
import pickle
import pickletools
import struct
import sys
import zipfile

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]


def expected_of(state_dict):
    """The golden values: torch's own row-major float32 copy of every tensor, in dict order."""
    out = collections.OrderedDict()
    for name, tensor in state_dict.items():
        t = tensor.detach()
        out[name] = {
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "stride": list(t.stride()),
            "storage_offset": t.storage_offset(),
            "values": t.to(torch.float32).contiguous().reshape(-1).tolist(),
        }
    return out


def main_state_dict():
    """Every tensor form the reader must handle, as torch.save writes them."""
    g = torch.Generator().manual_seed(20261206)
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(2, 3, 3, 3, generator=g)
    sd["conv.bias"] = torch.randn(2, generator=g)
    # Half and bfloat16 with exact extremes: max, smallest subnormal, -0.
    half = torch.randn(3, 4, generator=g).half()
    half[0, 0] = 65504.0
    half[0, 1] = 2.0**-24
    half[0, 2] = -0.0
    sd["half.weight"] = half
    bf16 = torch.randn(2, 5, generator=g).bfloat16()
    bf16[0, 0] = 3.3895313892515355e38
    bf16[0, 1] = -(2.0**-133)
    sd["bf16.weight"] = bf16
    sd["scalar"] = torch.tensor(0.625)
    # A saved transpose keeps its strides (non-contiguous view).
    base = torch.randn(3, 4, generator=g)
    sd["transposed"] = base.t()
    # Two views of one storage at different offsets.
    shared = torch.randn(10, generator=g)
    sd["shared.head"] = shared[:4]
    sd["shared.tail"] = shared[3:].view(7, 1)
    # The same tensor under two names (tied weights).
    sd["tied"] = sd["conv.bias"]
    # A strided half view and a permuted bfloat16 view.
    sd["half.every_other"] = torch.randn(3, 6, generator=g).half()[:, ::2]
    sd["bf16.permuted"] = torch.randn(2, 3, 4, generator=g).bfloat16().permute(2, 0, 1)
    # A broadcast view: stride 0 repeats storage elements.
    sd["expanded"] = torch.randn(3, generator=g).expand(2, 3)
    sd["empty"] = torch.zeros(0, 5)
    # nn.Parameter pickles through torch._utils._rebuild_parameter.
    sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("conv", {"version": 2})])
    return sd


class Tiny(torch.nn.Module):
    """A module whose state_dict() has the nested _metadata real checkpoints carry."""

    def __init__(self):
        super().__init__()
        self.conv_in = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.norm = torch.nn.GroupNorm(2, 4)
        self.proj = torch.nn.Linear(4, 2)


def hostile_pickle(kind):
    """Raw opcodes of pickles that run code in Python; never unpickled by this script."""
    command = "echo levelskip hostile fixture: this pickle runs code"
    arg = b"X" + struct.pack("<I", len(command)) + command.encode()
    if kind == "os-system":
        # os.system(command)
        return b"\x80\x02cos\nsystem\nq\x00" + arg + b"\x85q\x01Rq\x02."
    if kind == "builtins-eval":
        # builtins.eval("__import__('os').system(...)")
        code = f"__import__('os').system({command!r})"
        return b"\x80\x02cbuiltins\neval\nq\x00X" + struct.pack("<I", len(code)) + code.encode() + b"\x85q\x01Rq\x02."
    if kind == "posix-stack-global":
        # Protocol 4: STACK_GLOBAL('posix', 'system')(command)
        return b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x94\x93\x94" + arg + b"\x85\x94R\x94."
    if kind == "inside-state-dict":
        # A genuine-looking state dict whose second value is os.system(command): the tensor
        # before it is valid, so only the whitelist stops the load.
        return (
            b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(X\x06\x00\x00\x00weightq\x02"
            b"ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05"
            b"X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x02tq\x08QK\x00K\x02\x85q\tK\x01\x85q\n\x89h\x00)Rq\x0btq\x0cRq\r"
            b"X\x04\x00\x00\x00biasq\x0ecos\nsystem\nq\x0f" + arg + b"\x85q\x10Rq\x11u."
        )
    raise ValueError(kind)


def check_hostile(data):
    """Confirms (by disassembly only) that a hostile pickle imports a callable and calls it."""
    ops = [op.name for op, _, _ in pickletools.genops(data)]
    assert ("GLOBAL" in ops or "STACK_GLOBAL" in ops) and "REDUCE" in ops, ops


def encode_plain(value):
    """JSON form of a plain pickled value for the pickle machine's tests (tuples, floats and big ints tagged)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else {"int": str(value)}
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [encode_plain(v) for v in value]}
    if isinstance(value, list):
        return {"list": [encode_plain(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode_plain(k), encode_plain(v)] for k, v in value.items()]}
    raise TypeError(type(value))


def plain_pickles():
    """pickle.dumps of plain data at protocols 2 and 4: the opcodes torch.save uses, written by CPython."""
    shared = [7]
    values = [
        None, True, False, 0, 255, 256, 65535, 65536, -1, 2**31 - 1, -(2**31), 2**31, 2**53 + 1, -(2**70),
        1.5, -0.0, 1e300, 5e-324, "", "e\u0301 \u65e5\u672c \U0001f600", "x" * 300,
        (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1, "a", None], list(range(1001)),
        {}, {"a": 1, 2: "b", (3, 4): [5]}, {i: None for i in range(1001)},
        [shared, shared], collections.OrderedDict(),
    ]
    cases = []
    for protocol in (2, 4):
        for value in values:
            if isinstance(value, collections.OrderedDict):
                continue  # needs the collections.OrderedDict global; tested with torch files
            if protocol == 4 and isinstance(value, (list, dict)) and len(value) > 1000:
                continue  # the batching of APPENDS / SETITEMS (1000 per MARK) is the same at both protocols
            cases.append({"protocol": protocol, "hex": pickle.dumps(value, protocol=protocol).hex(), "value": encode_plain(value)})
    return cases


def write_torch_archive(path, records):
    """Writes records with torch's own zip writer (the layout torch.save produces)."""
    writer = torch._C.PyTorchFileWriter(str(path))
    for name, data in records:
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()


def atomic_write(path, data):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def torch_save_bytes(obj, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "packages/core/test/fixtures/torch-bin"
    out.mkdir(parents=True, exist_ok=True)
    expected = {"torch": torch.__version__, "files": {}}

    sd = main_state_dict()
    # Saved to a path, the top folder is the file's stem ("state-dict/").
    torch.save(sd, str(out / "state-dict.bin"))
    expected["files"]["state-dict.bin"] = expected_of(sd)

    torch.manual_seed(0)
    module_sd = Tiny().state_dict()
    # Saved to a buffer, the top folder is "archive/".
    atomic_write(out / "module-state-dict.bin", torch_save_bytes(module_sd))
    expected["files"]["module-state-dict.bin"] = expected_of(module_sd)
    expected["module_metadata"] = {k: v for k, v in module_sd._metadata.items()}

    small = collections.OrderedDict([("a", torch.tensor([1.5, -2.0, 0.25])), ("b", torch.tensor([[1.0, 2.0]]).half())])
    atomic_write(out / "protocol4.bin", torch_save_bytes(small, pickle_protocol=4))
    expected["files"]["protocol4.bin"] = expected_of(small)

    # Refused inputs, all written by torch itself.
    atomic_write(out / "legacy.bin", torch_save_bytes(small, _use_new_zipfile_serialization=False))
    atomic_write(out / "int64.bin", torch_save_bytes(collections.OrderedDict([("w", torch.ones(2)), ("steps", torch.arange(3))])))
    atomic_write(out / "whole-module.bin", torch_save_bytes(torch.nn.Linear(2, 2)))
    atomic_write(out / "nested.bin", torch_save_bytes({"epoch": 3, "state_dict": small}))
    atomic_write(out / "nonfinite.bin", torch_save_bytes(collections.OrderedDict([("w", torch.tensor([1.0, float("nan"), 2.0]))])))

    # The same archive repacked with deflate by another tool (Python's zipfile).
    deflated = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(torch_save_bytes(small))) as source, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            # A fixed timestamp keeps the fixture reproducible.
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), source.read(info.filename), zipfile.ZIP_DEFLATED)
    atomic_write(out / "deflated.bin", deflated.getvalue())

    # Hostile pickles in a genuine torch archive (records written as bytes, never loaded).
    for kind in ["os-system", "builtins-eval", "posix-stack-global", "inside-state-dict"]:
        records = [("data.pkl", hostile_pickle(kind)), ("version", b"3\n")]
        if kind == "inside-state-dict":
            records.insert(1, ("data/0", struct.pack("<2f", 1.0, 2.0)))
        check_hostile(records[0][1])
        write_torch_archive(out / f"hostile-{kind}.bin", records)

    atomic_write(out / "plain-pickles.json", (json.dumps(plain_pickles()) + "\n").encode())

    # Python's zipfile listing of two archives, to check the zip reader independently.
    expected["zip"] = {}
    for name in ["state-dict.bin", "hostile-inside-state-dict.bin"]:
        with zipfile.ZipFile(out / name) as archive:
            expected["zip"][name] = [
                {"name": i.filename, "size": i.file_size, "crc": i.CRC, "compress_type": i.compress_type} for i in archive.infolist()
            ]
    text = json.dumps(expected, indent=1) + "\n"
    atomic_write(out / "expected.json", text.encode())
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(list(out.iterdir()))} files, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
