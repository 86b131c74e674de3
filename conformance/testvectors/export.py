"""``aethel-conformance vectors export``: the language-neutral vector release.

The release is laid out in the manner of Ethereum's consensus-spec-tests::

    README.md                      what the release holds, how to run it, the tables per area
    manifest.json                  format, suite and protocol versions, SHA-256 of every file
    docs/WIRE.md, docs/PROTOCOL.md the wire forms and the subprocess protocol
    <area>/<handler>/README.md     input members, expected members, how to compare, rule IDs
    <area>/<handler>/<case>/meta.json      {area, handler, case, rules, capabilities}
    <area>/<handler>/<case>/input.json     the input
    <area>/<handler>/<case>/expected.json  {"result": ...} or {"reject": true}
    ed25519/edges/..., verifier/known-answers/..., bls/known-answers/...
                                   copied as they are (their own README)

Every case is generated from the same definitions as the suite (:mod:`.cases`), by running the
reference, or read from the committed vectors (which ``vectors check`` keeps equal to the
reference). Files are JSON with sorted members, one-space indentation, ASCII only (non-ASCII
characters and lone surrogates as ``\\u`` escapes) and a final newline, so two exports are equal
byte for byte; the ``.tar.gz`` has its members in sorted order with a fixed time, owner and mode.

Spec: E1-E11, R1-R8 (every rule a vector cites; see the README's table).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from aethel.catalog import rule_sort_key
from conformance import __version__ as SUITE_VERSION
from conformance.protocol.schema import PROTOCOL_VERSION
from conformance.testvectors.coverage import area_table, live_table
from conformance.testvectors.handlers import HANDLER_DOCS
from conformance.testvectors.model import VECTORS_DIR, Vector

#: The layout version of the release (a change of file names or members bumps it).
FORMAT = 1
CONFORMANCE_DIR = Path(__file__).resolve().parent.parent
#: Directories copied from conformance/vectors as they are: (source, area, handler).
COPIED = (
    ("ed25519", "ed25519", "edges"),
    ("verifier", "verifier", "known-answers"),
    ("bls", "bls", "known-answers"),
)
DOCS = {
    "docs/WIRE.md": CONFORMANCE_DIR / "WIRE.md",
    "docs/PROTOCOL.md": CONFORMANCE_DIR / "PROTOCOL.md",
}
#: Time stamp of every member of the tar (2024-01-01T00:00:00Z): the archive is reproducible.
TAR_MTIME = 1_704_067_200


def dump(value: Any) -> str:
    """Return the release's JSON text of ``value`` (stable bytes, see the module doc)."""
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def case_files(vector: Vector) -> dict[str, str]:
    """Return the files of one case, by path relative to the release."""
    base = f"{vector.runner}/{vector.handler}/{vector.case}"
    meta = {
        "area": vector.runner,
        "handler": vector.handler,
        "case": vector.case,
        "rules": list(vector.rules),
        "capabilities": list(vector.capabilities),
    }
    return {
        f"{base}/meta.json": dump(meta),
        f"{base}/input.json": dump(vector.input),
        f"{base}/expected.json": dump(vector.expected),
    }


def handler_readme(area: str, handler: str, vectors: list[Vector]) -> str:
    """Return the README of one handler."""
    doc = HANDLER_DOCS[(area, handler)]
    rules = sorted({r for v in vectors for r in v.rules}, key=rule_sort_key)
    rejecting = sum(1 for v in vectors if v.must_reject)
    capabilities = sorted({c for v in vectors for c in v.capabilities})
    lines = [
        f"# {area} / {handler}: {doc.title}",
        "",
        f"{len(vectors)} cases ({rejecting} must be refused). Capabilities: "
        f"{', '.join(f'`{c}`' for c in capabilities)}. Rules checked: {', '.join(rules)}.",
        "",
        f"- **Command(s)**: {doc.command if ' ' in doc.command else f'`{doc.command}`'}",
        f"- **`input.json`**: {doc.input}",
        f"- **`expected.json`**: {doc.expected}",
        f"- **How to compare**: {doc.compare}",
        "- **`meta.json`**: `area`, `handler`, `case`, `rules` (the rule IDs the case checks) and "
        "`capabilities` (what an implementation must declare to run it).",
        "",
        "| case | rules | outcome |",
        "|---|---|---|",
    ]
    for vector in vectors:
        outcome = "refused" if vector.must_reject else "answer"
        lines.append(f"| `{vector.case}` | {', '.join(vector.rules)} | {outcome} |")
    return "\n".join(lines) + "\n"


def _copied_files(source: Path) -> dict[str, dict[str, bytes]]:
    """Return the files of the copied directories: {area/handler: {relative path: bytes}}."""
    found: dict[str, dict[str, bytes]] = {}
    for directory, area, handler in COPIED:
        root = source / directory
        if not root.is_dir():
            continue
        files = {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }
        if files:
            found[f"{area}/{handler}"] = files
    return found


def release_files(vectors: list[Vector], source: Path = VECTORS_DIR) -> dict[str, bytes]:
    """Return every file of the release but the manifest, by relative path."""
    files: dict[str, bytes] = {}
    by_handler: dict[tuple[str, str], list[Vector]] = defaultdict(list)
    for vector in sorted(vectors, key=lambda v: (v.runner, v.handler, v.case)):
        by_handler[(vector.runner, vector.handler)].append(vector)
        for path, text in case_files(vector).items():
            files[path] = text.encode("ascii")
    for (area, handler), cases in by_handler.items():
        files[f"{area}/{handler}/README.md"] = handler_readme(area, handler, cases).encode()
    copied = _copied_files(source)
    for prefix, members in copied.items():
        for path, data in members.items():
            files[f"{prefix}/{path}"] = data
    for path, doc in DOCS.items():
        files[path] = doc.read_bytes()
    counts = {prefix: _count_copied(members) for prefix, members in copied.items()}
    files["README.md"] = readme(vectors, counts).encode()
    return dict(sorted(files.items()))


def copied_counts(source: Path = VECTORS_DIR) -> dict[str, int]:
    """Return the number of vectors of each copied directory, by its place in the release."""
    return {prefix: _count_copied(members) for prefix, members in _copied_files(source).items()}


def _count_copied(members: dict[str, bytes]) -> int:
    """Return the number of vectors in a copied directory (items of its JSON lists)."""
    total = 0
    for path, data in members.items():
        if path.endswith(".json"):
            value = json.loads(data)
            items = value.get("vectors", value) if isinstance(value, dict) else value
            total += len(items) if isinstance(items, list) else 1
    return total


def manifest(files: dict[str, bytes]) -> dict[str, Any]:
    """Return the manifest of a release: versions and the SHA-256 of every file."""
    return {
        "format": FORMAT,
        "suite_version": SUITE_VERSION,
        "protocol_version": PROTOCOL_VERSION,
        "generator": "aethel-conformance vectors export",
        "files": {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
    }


def write_release(out: Path, vectors: list[Vector], source: Path = VECTORS_DIR) -> dict[str, Any]:
    """Write the release into ``out`` (which must be empty or absent); return its manifest."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    files = release_files(vectors, source)
    for path, data in files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    record = manifest(files)
    (out / "manifest.json").write_text(dump(record), encoding="ascii")
    return record


def write_tar(directory: Path, target: Path, top: str) -> None:
    """Pack a written release into a reproducible ``.tar.gz`` under the folder ``top``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = sorted(
            (p for p in directory.rglob("*") if p.is_file()),
            key=lambda p: p.relative_to(directory).as_posix(),
        )
        folders = sorted({parent for p in paths for parent in p.relative_to(directory).parents})
        for folder in folders:
            name = top if folder == Path(".") else f"{top}/{folder.as_posix()}"
            info = tarfile.TarInfo(name)
            _fix(info, tarfile.DIRTYPE, 0o755)
            tar.addfile(info)
        for path in paths:
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{top}/{path.relative_to(directory).as_posix()}")
            _fix(info, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with (
        target.open("wb") as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=9) as zipped,
    ):
        zipped.write(raw.getvalue())


def _fix(info: tarfile.TarInfo, kind: bytes, mode: int) -> None:
    info.type = kind
    info.mode = mode
    info.mtime = TAR_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""


def release_name() -> str:
    """Return the folder name of the release inside its archive."""
    return f"aethel-vectors-{SUITE_VERSION}-protocol-{PROTOCOL_VERSION}"


def readme(vectors: list[Vector], copied: dict[str, int]) -> str:
    """Return the README of the release (also conformance/vectors/README.md)."""
    areas = "\n".join(area_table(vectors, copied))
    live = "\n".join(live_table(vectors))
    return README.format(
        suite=SUITE_VERSION,
        protocol=PROTOCOL_VERSION,
        format=FORMAT,
        total=len(vectors),
        areas=areas,
        live=live,
    )


README = """# Aethel conformance vectors

Release format {format}, suite {suite}, protocol version {protocol}: {total} generated vectors
for the Proof-of-Proof protocol, which any implementation can run in its own test runner, in any
language, without Python. Produced by `aethel-conformance vectors export --out DIR` (or `--tar
FILE.tar.gz`) from the case definitions the conformance suite itself replays; every expected
answer is the reference implementation's, checked against independent oracles where the suite
has one (hand-written encodings, the history tables, the hostile-text grammar's reasons).

## Layout

    manifest.json                          format, versions, SHA-256 of every other file
    docs/WIRE.md                           wire forms of the replica, catch-up, history capabilities
    docs/PROTOCOL.md                       the subprocess protocol (commands, errors, values)
    <area>/<handler>/README.md             input members, expected members, how to compare, rules
    <area>/<handler>/<case>/meta.json      area, handler, case, rules, capabilities
    <area>/<handler>/<case>/input.json     the input: the parameters of the handler's command(s)
    <area>/<handler>/<case>/expected.json  {{"result": ANSWER}} or {{"reject": true}}

`area` is a capability of the protocol (the one `hello` declares); `handler` the operation; the
case name says what the input is. A handler whose command is a single protocol command takes
`input.json` as that command's `params`; the stateful handlers (`replica/trace`,
`mempool/sequence`, `state-store/sequence`, `sync/session`) describe their sequence of commands
in their README. `ed25519/edges/`, `verifier/known-answers/` and `bls/known-answers/` (the BLS
known answers of consensus version 2, run through capability `consensus-v2`) are copied from the
suite as they are, with their own README.

In the suite's repository the same vectors live in `conformance/vectors/`, one file per case,
`<area>/<handler>/<case>.json` with the members `runner` (the area), `handler`, `case`, `rules`,
`input` and `expected` (the verifier's in `verifier-outcomes/`, beside the copied directories);
`aethel-conformance vectors check` keeps them equal to the reference, `vectors generate` rewrites
them and this README, and the suite replays them (`conformance/suite/test_vectors.py`, and
`test_replica_traces.py` for the traces). The wire forms are in `conformance/WIRE.md`.

## Running the vectors

For each case: read `input.json`, run your implementation, build the outcome `{{"result":
ANSWER}}` (or `{{"reject": true}}` if your implementation refused the input, an error of kind
`rejected`) and compare it with `expected.json` as the handler's README says (JSON equality
unless stated). Skip the cases whose `meta.json` capabilities you do not implement. Check the
files against `manifest.json` first.

`aethel-conformance vectors run --dir DIR --impl "stdio:./my-node"` does exactly this for a
program that speaks the subprocess protocol, reading only these files.

JSON pitfalls: read numbers losslessly (inputs hold integers up to 2^63 and beyond; 2^53 is not
a limit here, and `2.0` is not `2`: one is refused where the other is accepted); strings may hold
lone surrogates (`\\ud800`) and non-NFC text on purpose; compare integers as integers.

## Vectors per area

{areas}

## Rules left to live cases

Every other rule of the catalog is checked only by the live suite (`aethel-conformance run`),
because its check has no fixed answer for a fixed input:

{live}
"""


def export(out: Path, vectors: list[Vector], *, tar: Path | None = None) -> dict[str, Any]:
    """Write the release to ``out`` and, if asked, the archive ``tar``; return the manifest."""
    record = write_release(out, vectors)
    if tar is not None:
        write_tar(out, tar, release_name())
    return record


def remove_tree(path: Path) -> None:
    """Remove a directory tree (a temporary release)."""
    shutil.rmtree(path, ignore_errors=True)
