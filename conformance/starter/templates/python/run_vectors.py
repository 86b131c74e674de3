#!/usr/bin/env python3
"""Replay the released Aethel vectors of the capabilities this program implements.

    python3 run_vectors.py VECTORS_DIR

VECTORS_DIR is a release written by `aethel-conformance vectors export --out VECTORS_DIR`. For
every case `<area>/<handler>/<case>/` of a capability in aethel_starter.CAPABILITIES whose
handler is one command, this reads `input.json` (the command's parameters), calls the function
directly, builds `{"result": ...}` or `{"reject": true}` and compares it with `expected.json`
(JSON equality, integers and floats told apart). Each file read is first checked against the
SHA-256 that `manifest.json` lists. Exit status 0 when every case passes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
aethel_starter: Any = importlib.import_module("aethel_starter")


def same(a: Any, b: Any) -> bool:
    """JSON equality where 1, 1.0 and True are three different values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[1])
    hashes = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["files"]

    def read(path: Path) -> Any:
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != hashes.get(path.relative_to(root).as_posix()):
            raise SystemExit(f"{path}: not the file the manifest lists")
        return json.loads(data)

    passed = failed = 0
    for meta_path in sorted(root.glob("*/*/*/meta.json")):
        meta = read(meta_path)
        name = f"{meta['area']}.{meta['handler']}"
        function = aethel_starter.COMMANDS.get(name)
        if meta["area"] not in aethel_starter.CAPABILITIES or function is None:
            continue
        case = meta_path.parent
        params, expected = read(case / "input.json"), read(case / "expected.json")
        try:
            got: dict[str, Any] = {"result": function(**params)}
        except aethel_starter.Refused:
            got = {"reject": True}
        except Exception as exc:  # a bug of the implementation fails its case, not the run
            got = {"error": f"{type(exc).__name__}: {exc}"}
        if same(got, expected):
            passed += 1
        else:
            failed += 1
            print(f"FAIL {case.relative_to(root)}: expected {expected}, got {got}"[:400])
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
