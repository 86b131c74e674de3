"""The Ed25519 edge classes of N1 and the verifier models the mutants use are what they claim.

The curve arithmetic (conformance/testvectors/edwards25519.py) must agree with libsodium; each
class must get libsodium's verdict for seeds and messages other than the committed vectors'
(a class is a construction, not one lucky signature); each model must accept exactly what the
committed README says.
"""

from __future__ import annotations

import random
from pathlib import Path

import nacl.signing
import pytest

from conformance.testvectors import ed25519, edwards25519
from conformance.testvectors.ed25519 import EDGE_CLASSES, MODELS, libsodium_verify, model_verify


@pytest.mark.req("N1")
def test_public_keys_and_signatures_match_libsodium() -> None:
    rng = random.Random(5)
    for _ in range(5):
        seed = rng.randbytes(32)
        signer = nacl.signing.SigningKey(seed)
        assert edwards25519.public_key(seed) == bytes(signer.verify_key)
        message = rng.randbytes(40)
        signature = signer.sign(message).signature
        for model in MODELS:
            assert model_verify(model, bytes(signer.verify_key), message, signature), model.name


@pytest.mark.req("N1")
def test_torsion_points_are_libsodiums_small_order_points() -> None:
    orders = sorted(point.order() for point in edwards25519.TORSION)
    assert orders == [1, 2, 4, 4, 8, 8, 8, 8]
    assert edwards25519.BASE.order() == edwards25519.L
    assert edwards25519.BASE.encode() == bytes.fromhex(
        "5866666666666666666666666666666666666666666666666666666666666666"
    )


@pytest.mark.req("N1", "R7.5")
@pytest.mark.parametrize("edge", EDGE_CLASSES, ids=lambda e: e.name)
def test_each_class_gets_libsodiums_verdict_for_other_seeds_and_messages(
    edge: ed25519.EdgeClass,
) -> None:
    rng = random.Random(edge.name)
    for _ in range(4):
        seed, message = rng.randbytes(32), rng.randbytes(rng.randrange(0, 80))
        key, signature = edge.key(seed), edge.sign(seed, message)
        assert libsodium_verify(key, message, signature) is edge.valid
        assert model_verify(ed25519.LIBSODIUM, key, message, signature) is edge.valid


@pytest.mark.req("N1")
def test_committed_readme_table_is_what_the_models_do() -> None:
    table = ed25519.model_table(ed25519.load_vectors())
    readme = ed25519.README_FILE.read_text(encoding="utf-8")
    for edge in EDGE_CLASSES:
        cells = " | ".join("yes" if table[edge.name][m.name] else "no" for m in MODELS)
        assert f"| `{edge.name}` | {cells} |" in readme
    # every lenient model accepts some invalid class; the strict-plus one refuses a valid one
    for model in MODELS[1:]:
        assert any(table[e.name][model.name] != e.valid for e in EDGE_CLASSES), model.name


@pytest.mark.req("N1")
def test_a_tampered_vector_file_is_reported(tmp_path: Path) -> None:
    directory = tmp_path
    ed25519.write(directory)
    assert ed25519.compare(directory) == []
    text = (directory / "vectors.json").read_text(encoding="utf-8")
    (directory / "vectors.json").write_text(text.replace('"valid": false', '"valid": true', 1))
    assert ed25519.compare(directory) == ["differs from the definitions: ed25519/vectors.json"]
