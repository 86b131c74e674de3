"""The vector release: reproducible byte for byte, complete, and passed by the reference through a
runner that reads only the released files."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aethel.catalog import load_catalog
from conformance.adapters.loader import load_implementation
from conformance.adapters.reference import ReferenceImplementation
from conformance.testvectors import (
    bls,
    cases,
    history_cases,
    mempool_cases,
    store_cases,
    sync_cases,
    trace_cases,
    verifier_cases,
)
from conformance.testvectors.coverage import LIVE_REASONS, missing_reasons
from conformance.testvectors.export import export, release_name, write_tar
from conformance.testvectors.generate import build_vectors
from conformance.testvectors.handlers import HANDLER_DOCS
from conformance.testvectors.model import VECTORS_DIR, Vector, load_vectors
from conformance.testvectors.runner import ReleaseError, check_manifest, run_release

pytestmark = pytest.mark.req("E1", "E4")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release generated afresh from the case definitions by the reference."""
    out = tmp_path_factory.mktemp("release") / "fresh"
    export(out, build_vectors(), tar=out.parent / "fresh.tar.gz")
    return out


def _hashes(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_two_exports_are_equal_byte_for_byte(fresh: Path, tmp_path: Path) -> None:
    """A release of the committed vectors equals a fresh one, file for file and as a tar."""
    again = tmp_path / "committed"
    export(again, load_vectors(every=True), tar=tmp_path / "committed.tar.gz")
    assert _hashes(again) == _hashes(fresh)
    first = (fresh.parent / "fresh.tar.gz").read_bytes()
    assert (tmp_path / "committed.tar.gz").read_bytes() == first
    write_tar(fresh, tmp_path / "third.tar.gz", release_name())
    assert (tmp_path / "third.tar.gz").read_bytes() == first


def test_the_tar_is_sorted_with_fixed_times_and_owners(fresh: Path) -> None:
    with tarfile.open(fresh.parent / "fresh.tar.gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[0] == release_name()
    files = [m for m in members if m.isfile()]
    assert len(files) == len([p for p in fresh.rglob("*") if p.is_file()])
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {
        (1_704_067_200, 0, 0, "", "")
    }
    assert [m.name for m in files] == sorted(m.name for m in files)


def test_the_manifest_lists_every_file_with_its_hash(fresh: Path) -> None:
    record = check_manifest(fresh)
    assert record["format"] == 1 and record["protocol_version"] == 1
    assert record["suite_version"]
    assert set(record["files"]) == set(_hashes(fresh)) - {"manifest.json"}


def _stub_definitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every case definition unusable: a runner that reads one fails."""

    def gone(*_: Any, **__: Any) -> Iterator[Any]:
        raise AssertionError("the release runner read a case definition")

    for module, name in [
        (cases, "iter_cases"),
        (trace_cases, "iter_trace_cases"),
        (mempool_cases, "iter_mempool_cases"),
        (store_cases, "iter_store_cases"),
        (sync_cases, "iter_sync_cases"),
        (verifier_cases, "iter_verifier_cases"),
        (history_cases, "iter_history_cases"),
        (bls, "build"),
    ]:
        monkeypatch.setattr(module, name, gone)


@pytest.mark.req("E10", "R1.4", "R2.3", "R3.1", "R3.6", "R6.3", "N7")
def test_the_reference_passes_every_released_vector(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stub_definitions(monkeypatch)
    results = run_release(ReferenceImplementation(), fresh)
    bad = [r for r in results if r.status != "pass"]
    assert bad == []
    generated = len(list(fresh.glob("*/*/*/meta.json")))
    assert generated == len(load_vectors(every=True))
    copied_dirs = ("ed25519/", "verifier/known-answers/", "bls/known-answers/")
    copied = sum(1 for r in results if r.path.startswith(copied_dirs))
    present = [d for d in ("ed25519", "verifier", "bls") if (VECTORS_DIR / d).is_dir()]
    assert (copied > 0) == bool(present), present  # Ed25519 edges, effort and BLS known answers
    assert len(results) == generated + copied
    known = json.loads((VECTORS_DIR / "bls" / "vectors.json").read_text())
    assert sum(1 for r in results if r.path.startswith("bls/known-answers/")) == len(known)


@pytest.mark.req("E4", "R2.3", "R3.1")
def test_the_reference_over_the_subprocess_protocol_passes_them_too(fresh: Path) -> None:
    impl = load_implementation("stdio-reference")
    try:
        results = run_release(impl, fresh)
    finally:
        impl.close()
    assert [r for r in results if r.status != "pass"] == []


def _copy(fresh: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(fresh, target)
    return target


def test_a_changed_missing_or_extra_file_breaks_the_release(fresh: Path, tmp_path: Path) -> None:
    copy = _copy(fresh, tmp_path)
    (copy / "list-hash/root/size-3/expected.json").write_text('{"result": "00"}\n')
    (copy / "encoding/sign/prepare/input.json").unlink()
    (copy / "stray.json").write_text("{}")
    with pytest.raises(ReleaseError) as caught:
        check_manifest(copy)
    message = str(caught.value)
    assert "missing: encoding/sign/prepare/input.json" in message
    assert "not in the manifest: stray.json" in message
    assert "changed since the manifest: list-hash/root/size-3/expected.json" in message


def test_a_wrong_expected_answer_fails_its_case(fresh: Path, tmp_path: Path) -> None:
    """With the manifest updated too, the runner compares and fails the edited cases."""
    copy = _copy(fresh, tmp_path)
    edits = {
        "list-hash/root/size-3/expected.json": {"result": "00" * 32},
        "economics/block_reward/total-500001/expected.json": {"result": 5_000_000.0},
        "replica/trace/single-validator-commits-alone/expected.json": None,
    }
    for path, value in edits.items():
        target = copy / path
        if value is None:  # drop the commit from the trace's only checkpoint
            value = json.loads(target.read_text())
            outputs = value["result"]["checks"][-1]["outputs"]
            value["result"]["checks"][-1]["outputs"] = [
                o for o in outputs if o["type"] != "committed"
            ]
        target.write_text(json.dumps(value))
    manifest = json.loads((copy / "manifest.json").read_text())
    for path in edits:
        manifest["files"][path] = hashlib.sha256((copy / path).read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    results = run_release(ReferenceImplementation(), copy)
    failed = {r.path: r.detail for r in results if r.status == "fail"}
    assert set(failed) == {p.rsplit("/", 1)[0] for p in edits}
    assert "wrong JSON number type" in failed["economics/block_reward/total-500001"]


@pytest.mark.req("V2.4", "V2.8")
def test_a_wrong_bls_known_answer_fails_its_case(fresh: Path, tmp_path: Path) -> None:
    """The copied BLS known answers run through consensus-v2: with one expected answer turned
    into a refusal and another's rule changed (manifest updated), exactly those two fail."""
    copy = _copy(fresh, tmp_path)
    path = "bls/known-answers/vectors.json"
    records = json.loads((copy / path).read_text())
    for record in records:
        if (record["handler"], record["case"]) == ("key_validate", "valid"):
            record["expected"] = {"reject": "V2.4"}
        if (record["handler"], record["case"]) == ("certificate", "one-below-q"):
            record["expected"] = {"reject": "V2.7"}
    (copy / path).write_text(json.dumps(records))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"][path] = hashlib.sha256((copy / path).read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    results = run_release(ReferenceImplementation(), copy)
    failed = {r.path: r.detail for r in results if r.status == "fail"}
    assert set(failed) == {
        "bls/known-answers/key_validate/valid",
        "bls/known-answers/certificate/one-below-q",
    }
    assert "named V2.8" in failed["bls/known-answers/certificate/one-below-q"]


def test_every_handler_is_documented_and_every_rule_placed() -> None:
    vectors: list[Vector] = load_vectors(every=True)
    assert {(v.runner, v.handler) for v in vectors} <= set(HANDLER_DOCS)
    assert missing_reasons(vectors) == []
    catalog = load_catalog()
    assert set(LIVE_REASONS) <= set(catalog.ids())
    covered = {r for v in vectors for r in v.rules}
    assert not covered & set(LIVE_REASONS), "a rule both covered and left to live cases"


def test_the_committed_readme_is_the_releases(fresh: Path) -> None:
    """The same text, but for the rows of the copied directories (kept by other generators)."""
    committed = (VECTORS_DIR / "README.md").read_text().splitlines()
    released = (fresh / "README.md").read_text().splitlines()
    assert [line for line in released if "(copied)" not in line] == committed
    for handler_dir in {p.parent.parent for p in fresh.glob("*/*/*/meta.json")}:
        text = (handler_dir / "README.md").read_text()
        for heading in ("**`input.json`**", "**`expected.json`**", "**How to compare**"):
            assert heading in text, handler_dir
