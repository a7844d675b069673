#!/usr/bin/env python3
"""Validate every ONNX graph in a directory with the ONNX checker.

Runs ``onnx.checker.check_model(model, full_check=True)`` (structural checks plus strict shape
inference) on each ``*.onnx`` file of DIR (e.g. a ``exportOnnx`` output from
@levelskip/backend-onnx) and prints one line per graph. Exits 1 if any graph fails, 2 on usage
errors.

Usage: python3 scripts/dev/check-onnx-graphs.py DIR [DIR ...]
Needs the ``onnx`` Python package (Debian: python3-onnx).
"""
import json
import pathlib
import sys

import onnx


def check_dir(directory: pathlib.Path) -> int:
    graphs = sorted(directory.glob("*.onnx"))
    if not graphs:
        print(f"{directory}: no .onnx files", file=sys.stderr)
        return 1
    manifest = directory / "manifest.json"
    listed = None
    if manifest.exists():
        listed = {g["file"] for g in json.loads(manifest.read_text())["graphs"]}
    failures = 0
    for path in graphs:
        try:
            model = onnx.load(str(path))
            onnx.checker.check_model(model, full_check=True)
            opset = ",".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in model.opset_import)
            print(f"OK   {path.name}  (ir {model.ir_version}, opset {opset}, {len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers)")
        except Exception as error:  # the checker raises several exception types
            failures += 1
            print(f"FAIL {path.name}: {error}")
    if listed is not None:
        missing = listed - {p.name for p in graphs}
        for name in sorted(missing):
            failures += 1
            print(f"FAIL {name}: listed in manifest.json but missing")
    print(f"{directory}: {len(graphs) - failures} of {len(graphs)} graphs pass onnx.checker (full_check, onnx {onnx.__version__})")
    return failures


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    failures = sum(check_dir(pathlib.Path(d)) for d in argv[1:])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
