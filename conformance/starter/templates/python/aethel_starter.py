#!/usr/bin/env python3
"""A minimal Aethel implementation speaking the conformance subprocess protocol (PROTOCOL.md).

Written by `aethel-conformance init --lang python`. It does three things, each end to end:

* the framing: one JSON request per line on standard input, one JSON response per line on
  standard output, flushed; unreadable lines answered with `"id": null` and kind `bad-request`;
* the session: `hello` (name, version, protocol 1, capabilities), `close`, `shutdown`;
* one capability, `list-hash` (E10, E11): RFC 6962 Merkle tree hashes of lists of JSON values
  (each leaf is the canonical JSON of an entry, E1-E4), inclusion and consistency proofs and their
  verification as RFC 9162 defines it.

Run it under the suite with

    aethel-conformance smoke --impl "stdio:python3 aethel_starter.py"
    aethel-conformance run --impl "stdio:python3 aethel_starter.py" --capability list-hash

and replay the released vectors with `python3 run_vectors.py VECTORS_DIR`. Add a capability by
adding its commands to COMMANDS and its name to CAPABILITIES. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

NAME = "aethel-starter-python"
VERSION = "0.1.0"
PROTOCOL = 1
CAPABILITIES = ["list-hash"]
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


class Refused(Exception):
    """The input breaks a rule: answered as an error of kind `rejected` naming the rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


# --------------------------------------------------------------------------- canonical JSON


def _string(text: str) -> str:
    """Return the RFC 8785 form of a string (E1), refusing what E3 forbids."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise Refused("E3", "a string holds a lone surrogate")
    if unicodedata.normalize("NFC", text) != text:
        raise Refused("E3", "a string is not in NFC")
    out = ['"']
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\b":
            out.append("\\b")
        elif c == "\f":
            out.append("\\f")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be")


def _encode(value: Any, depth: int) -> str:
    if depth > 64:
        raise Refused("E4", "nesting deeper than 64 levels")
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if not -(2**63) <= value <= 2**63 - 1:
            raise Refused("E2", "an integer outside the 64-bit range")
        return str(value)
    if isinstance(value, float):
        raise Refused("E2", "a number that is not an integer")
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(_encode(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        for name in value:
            _string(name)
        names = sorted(value, key=_utf16_key)
        items = (_string(n) + ":" + _encode(value[n], depth + 1) for n in names)
        return "{" + ",".join(items) + "}"
    raise Refused("E1", f"not a JSON value: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """Return the canonical encoding of ``value`` (E1-E4)."""
    return _encode(value, 1).encode("utf-8")


# --------------------------------------------------------------------------- RFC 6962 lists


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _leaf(entry: Any) -> bytes:
    return _sha(b"\x00" + canonical_json(entry))


def _node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def _entries(entries: Any) -> list[bytes]:
    if not isinstance(entries, list):
        raise Refused("E10", "entries must be a list")
    return [_leaf(e) for e in entries]


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def root(entries: Any) -> str:
    return _mth(_entries(entries)).hex()


def prove_inclusion(entries: Any, index: Any) -> list[str]:
    leaves = _entries(entries)
    if not _natural(index) or index >= len(leaves):
        raise Refused("E11", "no leaf at that index")
    return [h.hex() for h in _path(index, leaves)]


def prove_consistency(entries: Any, size1: Any) -> list[str]:
    leaves = _entries(entries)
    if not _natural(size1) or not 0 < size1 <= len(leaves):
        raise Refused("E11", "a consistency proof exists for 0 < size1 <= size only")
    return [h.hex() for h in _subproof(size1, leaves, True)]


def _hex(value: Any, size: int | None = 32) -> bytes | None:
    """Return the bytes of lowercase hex (``size`` of them, if given), or None: a defect, and
    a proof with a defect does not verify."""
    if not isinstance(value, str) or len(value) % 2 or (size and len(value) != 2 * size):
        return None
    if any(c not in "0123456789abcdef" for c in value):
        return None
    return bytes.fromhex(value)


def _hash(value: Any) -> bytes | None:
    return _hex(value)


def _root(value: Any) -> bytes | None:
    """A root of any length: one that is not 32 bytes long matches no computed root, but two
    equal sizes only need equal roots (RFC 9162 checks nothing else)."""
    return _hex(value, None)


def verify_inclusion(
    leaf_index: Any, tree_size: Any, leaf_hash: Any, proof: Any, root: Any
) -> bool:
    """RFC 9162, 2.1.3.2; any defect answers false."""
    hashes = [_hash(h) for h in proof] if isinstance(proof, list) else [None]
    leaf, want = _hash(leaf_hash), _root(root)
    if leaf is None or want is None or any(h is None for h in hashes):
        return False
    if not (_natural(leaf_index) and _natural(tree_size)) or leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in hashes:
        assert p is not None
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == want


def verify_consistency(size1: Any, size2: Any, root1: Any, root2: Any, proof: Any) -> bool:
    """RFC 9162, 2.1.4.2, with the edges spec/encoding.md (E11) fixes; any defect is false."""
    hashes = [_hash(h) for h in proof] if isinstance(proof, list) else [None]
    first, second = _root(root1), _root(root2)
    if first is None or second is None or any(h is None for h in hashes):
        return False
    if not (_natural(size1) and _natural(size2)) or size1 > size2:
        return False
    if size1 == size2:
        empty_ok = size1 > 0 or first.hex() == EMPTY_ROOT
        return not hashes and first == second and empty_ok
    if size1 == 0 or not hashes:
        return False
    path = [h for h in hashes if h is not None]
    if size1 & (size1 - 1) == 0:  # a power of two: the first subtree root is root1
        path = [first, *path]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first and sr == second


# --------------------------------------------------------------------------- the protocol

COMMANDS: dict[str, Callable[..., Any]] = {
    "list-hash.root": root,
    "list-hash.prove_inclusion": prove_inclusion,
    "list-hash.prove_consistency": prove_consistency,
    "list-hash.verify_inclusion": verify_inclusion,
    "list-hash.verify_consistency": verify_consistency,
}


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _error(request_id: Any, kind: str, message: str, rule: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"kind": kind, "message": message}
    if rule is not None:
        error["rule"] = rule
    return {"id": request_id, "ok": False, "error": error}


def answer(line: bytes) -> tuple[dict[str, Any], bool]:
    """Return the response to one request line and whether to keep running."""
    try:
        request = json.loads(line.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error(None, "bad-request", "not a JSON line"), True
    request_id = request.get("id") if isinstance(request, dict) else None
    if type(request_id) is not int or request_id < 0:
        return _error(None, "bad-request", "a request has a non-negative integer id"), True
    command, params = request.get("cmd"), request.get("params")
    if not isinstance(command, str) or not isinstance(params, dict):
        return _error(request_id, "bad-request", "a request has a cmd and params"), True
    if command == "hello":
        offered = params.get("protocol")
        if not isinstance(offered, list) or PROTOCOL not in offered:
            return _error(
                request_id, "bad-request", f"this program speaks protocol {PROTOCOL}"
            ), True
        result = {"name": NAME, "version": VERSION, "protocol": PROTOCOL,
                  "capabilities": CAPABILITIES}  # fmt: skip
        return {"id": request_id, "ok": True, "result": result}, True
    if command in ("close", "shutdown"):
        return {"id": request_id, "ok": True, "result": None}, command != "shutdown"
    function = COMMANDS.get(command)
    if function is None:
        return _error(request_id, "unsupported", f"{command} is not implemented"), True
    try:
        return {"id": request_id, "ok": True, "result": function(**params)}, True
    except Refused as refusal:
        return _error(request_id, "rejected", str(refusal), refusal.rule), True
    except TypeError as exc:
        return _error(request_id, "bad-request", str(exc)), True
    except Exception as exc:  # report, never die: an internal error is the program's own
        return _error(request_id, "internal", f"{type(exc).__name__}: {exc}"), True


def main() -> None:
    for line in sys.stdin.buffer:
        response, keep = answer(line)
        sys.stdout.write(json.dumps(response, ensure_ascii=True) + "\n")
        sys.stdout.flush()
        if not keep:
            return


if __name__ == "__main__":
    main()
