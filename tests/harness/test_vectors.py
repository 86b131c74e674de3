"""Committed test vectors agree with the reference; a disagreement is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conformance.testvectors.generate import compare
from conformance.testvectors.model import VECTORS_DIR, load_vectors


def test_committed_vectors_agree_with_the_reference() -> None:
    assert compare() == [], "run `aethel-conformance vectors generate` if the reference is right"


def test_vectors_name_rules_and_an_outcome() -> None:
    vectors = load_vectors()
    assert len(vectors) > 100
    assert any(v.must_reject for v in vectors) and any(not v.must_reject for v in vectors)
    for vector in vectors:
        assert vector.rules, vector.path
        assert set(vector.expected) in ({"reject"}, {"result"}), vector.path


def test_check_catches_an_edited_a_missing_and_a_stray_vector(tmp_path: Path) -> None:
    copy = tmp_path / "vectors"
    shutil.copytree(VECTORS_DIR, copy, ignore=shutil.ignore_patterns("external"))
    edited = copy / "list-hash" / "root" / "size-3.json"
    data = json.loads(edited.read_text())
    data["expected"]["result"] = "00" * 32
    edited.write_text(json.dumps(data))
    (copy / "encoding" / "sign" / "prepare.json").unlink()
    (copy / "encoding" / "sign" / "stray.json").write_text("{}")
    problems = compare(copy)
    assert "differs from the reference: list-hash/root/size-3.json" in problems
    assert "missing: encoding/sign/prepare.json" in problems
    assert any("stray.json" in p for p in problems)
