"""Run an exported vector release on an implementation, reading only the release's files.

:func:`run_release` checks every file against ``manifest.json``, then for each case directory
(``<area>/<handler>/<case>/``) reads ``meta.json``, ``input.json`` and ``expected.json``, runs
the handler on the implementation and compares the outcome with the expected one. The handlers
(:data:`conformance.testvectors.cases.HANDLERS`) say how to call the implementation; no case
definition is read, so a release that lost or changed a file fails here. The copied Ed25519
edges (``ed25519/edges/vectors.json``) run through ``encoding.verify_signature``, the copied
effort known answers (``verifier/known-answers/effort.json``) through ``verifier.verify_proof``,
the copied BLS known answers (``bls/known-answers/vectors.json``) through the commands of
``consensus-v2`` (:mod:`conformance.testvectors.bls_replay`; a refusal must name the rule).

``aethel-conformance vectors run --dir DIR --impl X`` prints one line per failure and a summary.

Spec: every rule a vector cites.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.adapters.api import Implementation
from conformance.adapters.errors import ImplementationFailure, Rejected
from conformance.checks import first_divergence, type_mismatches
from conformance.testvectors.bls_replay import CAPABILITY as BLS_CAPABILITY
from conformance.testvectors.bls_replay import check_case, project_cases
from conformance.testvectors.cases import HANDLERS


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The verdict on one exported case."""

    path: str
    status: str  # "pass", "fail", "error" or "skip"
    detail: str = ""


class ReleaseError(Exception):
    """The release itself is broken: a file missing, extra or changed against its manifest."""


def check_manifest(directory: Path) -> dict[str, Any]:
    """Return the manifest after checking every file's SHA-256; raise :class:`ReleaseError`."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise ReleaseError(f"{directory} has no manifest.json: not a vector release")
    record: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    listed: dict[str, str] = record.get("files", {})
    present = {
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p != manifest_path
    }
    problems = [f"missing: {p}" for p in sorted(set(listed) - present)]
    problems += [f"not in the manifest: {p}" for p in sorted(present - set(listed))]
    for path in sorted(set(listed) & present):
        if hashlib.sha256((directory / path).read_bytes()).hexdigest() != listed[path]:
            problems.append(f"changed since the manifest: {path}")
    if problems:
        raise ReleaseError("; ".join(problems[:20]))
    return record


def iter_case_dirs(directory: Path) -> Iterator[Path]:
    """Yield every case directory (one holding ``meta.json``), sorted."""
    yield from sorted(p.parent for p in directory.glob("*/*/*/meta.json"))


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _compare(got: Any, expected: Any) -> str:
    found = first_divergence(expected, got)
    if found is None:
        wrong_types = type_mismatches(expected, got)
        return f"wrong JSON number type at {wrong_types[0].describe()}" if wrong_types else ""
    where, want, have = found
    return (
        f"at {where or 'the top'}: expected {json.dumps(want)[:200]}, got {json.dumps(have)[:200]}"
    )


def run_case(impl: Implementation, case_dir: Path, root: Path) -> CaseResult:
    """Run one exported case on ``impl``."""
    path = case_dir.relative_to(root).as_posix()
    meta = _read(case_dir / "meta.json")
    missing = [c for c in meta["capabilities"] if c not in impl.capabilities]
    if missing:
        return CaseResult(path, "skip", f"capabilities not declared: {', '.join(missing)}")
    handler = HANDLERS.get((meta["area"], meta["handler"]))
    if handler is None:
        return CaseResult(path, "error", f"no runner for {meta['area']}/{meta['handler']}")
    data = _read(case_dir / "input.json")
    expected = _read(case_dir / "expected.json")
    try:
        got = handler(impl, data)
    except ImplementationFailure as exc:
        return CaseResult(path, "error", f"{type(exc).__name__}: {exc}"[:500])
    problem = _compare(got, expected)
    return CaseResult(path, "fail" if problem else "pass", problem)


def _ed25519_cases(impl: Implementation, root: Path) -> Iterator[CaseResult]:
    """Run the copied Ed25519 edge vectors through ``encoding.verify_signature``."""
    source = root / "ed25519" / "edges" / "vectors.json"
    if not source.is_file():
        return
    if "encoding" not in impl.capabilities:
        yield CaseResult("ed25519/edges", "skip", "capability not declared: encoding")
        return
    data = _read(source)
    items = data.get("vectors", data) if isinstance(data, dict) else data
    api = impl.api("encoding")
    for index, item in enumerate(items):
        name = f"ed25519/edges/{index:02d}-{item.get('class', '')}-{item.get('object', '')}"
        try:
            answer = api.verify_signature(
                item["public_key"], item["domain"], item["value"], item["signature"]
            )
            verdict = answer is True
        except Rejected:
            verdict = False
        except ImplementationFailure as exc:
            yield CaseResult(name, "error", str(exc)[:300])
            continue
        status = "pass" if verdict == bool(item["valid"]) else "fail"
        detail = "" if status == "pass" else f"expected valid={item['valid']}, got {verdict}"
        yield CaseResult(name, status, detail)


def _known_answer_cases(impl: Implementation, root: Path) -> Iterator[CaseResult]:
    """Run the copied effort known answers (``verifier/known-answers/*.json``: records of
    ``{case, input: {proof}, expected: {...}}``) through ``verifier.verify_proof``, comparing the
    members each record gives."""
    for source in sorted((root / "verifier" / "known-answers").glob("*.json")):
        records = _read(source)
        if not isinstance(records, list):
            continue
        if "verifier" not in impl.capabilities:
            yield CaseResult(source.relative_to(root).as_posix(), "skip", "no capability verifier")
            continue
        api = impl.api("verifier")
        for record in records:
            name = f"verifier/known-answers/{source.stem}/{record['case']}"
            try:
                result = api.verify_proof(record["input"]["proof"])
            except Rejected:
                yield CaseResult(name, "fail", "the proof was refused")
                continue
            except ImplementationFailure as exc:
                yield CaseResult(name, "error", str(exc)[:300])
                continue
            want = record["expected"]
            got = {k: result.get(k) for k in want} if isinstance(result, dict) else result
            problem = _compare(got, want)
            yield CaseResult(name, "fail" if problem else "pass", problem)


def _bls_cases(impl: Implementation, root: Path) -> Iterator[CaseResult]:
    """Run the copied BLS known answers (``bls/known-answers/vectors.json``: records of
    ``{handler, case, rules, input, expected}``) through capability ``consensus-v2``."""
    source = root / "bls" / "known-answers" / "vectors.json"
    if not source.is_file():
        return
    if BLS_CAPABILITY not in impl.capabilities:
        yield CaseResult("bls/known-answers", "skip", f"no capability {BLS_CAPABILITY}")
        return
    api = impl.api(BLS_CAPABILITY)
    for case in project_cases(source):
        name = f"bls/known-answers/{case.handler}/{case.name}"
        try:
            check_case(api, case)
        except AssertionError as exc:
            yield CaseResult(name, "fail", str(exc)[:500])
            continue
        except Rejected as exc:
            yield CaseResult(name, "fail", f"refused a valid input: {exc}"[:500])
            continue
        except ImplementationFailure as exc:
            yield CaseResult(name, "error", str(exc)[:300])
            continue
        yield CaseResult(name, "pass")


def run_release(impl: Implementation, directory: Path) -> list[CaseResult]:
    """Check the release's manifest, then run every case on ``impl``."""
    check_manifest(directory)
    results = [run_case(impl, case_dir, directory) for case_dir in iter_case_dirs(directory)]
    results.extend(_ed25519_cases(impl, directory))
    results.extend(_known_answer_cases(impl, directory))
    results.extend(_bls_cases(impl, directory))
    return results
