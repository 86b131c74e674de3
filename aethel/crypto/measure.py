"""What a version-2 certificate costs to check, measured on this machine (spec/consensus-v2.md,
Rationale): one BLS verify, FastAggregateVerify of a quorum of signers of one message with their
keys kept (parsed once), the aggregation a collector does, and the same quorum of Ed25519 checks
with PyNaCl (what a version-1 certificate costs).

``python -m aethel.crypto.measure [--signers 6667] [--repeat 5]`` prints the numbers as JSON.
Every figure is a wall-time median over ``repeat`` runs of the real operation: nothing is
extrapolated. The keys are derived from seeds of a fixed RNG, so the inputs are the same on
every run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import nacl.signing

from aethel.crypto import bls

#: A COMMIT vote's bytes in version 2 (V2.3): what every signer of a commit certificate signs.
VOTE = (
    b"aethel/commit/v2\x00"
    b'{"digest":"' + b"ab" * 32 + b'","height":12,"post_root":"' + b"cd" * 32 + b'",'
    b'"type":"commit","view":0}'
)
#: Two thirds of 10,000 validators of equal stake, plus one: q(W) signers.
DEFAULT_SIGNERS = 6_667


def _median_s(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(signers: int = DEFAULT_SIGNERS, repeat: int = 5, seed: int = 19) -> dict[str, Any]:
    """Return the measurements (seconds) and the ratio of Ed25519 to BLS certificate checks."""
    rng = random.Random(seed)
    secrets = [bls.SecretKey.from_seed(rng.randbytes(32)) for _ in range(signers)]
    keys = [bls.PublicKey.from_bytes(s.public_key().data) for s in secrets]
    signatures = [s.sign(VOTE) for s in secrets]
    aggregate = bls.aggregate(signatures)
    assert bls.fast_aggregate_verify(keys, VOTE, aggregate)
    key_bytes = [k.data for k in keys]
    signature_bytes = [s.data for s in signatures]

    ed_keys = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(signers)]
    ed_verify = [k.verify_key for k in ed_keys]
    ed_signatures = [k.sign(VOTE).signature for k in ed_keys]

    def ed25519_quorum() -> None:
        for key, signature in zip(ed_verify, ed_signatures, strict=True):
            key.verify(VOTE, signature)

    one_verify = _median_s(lambda: bls.verify(keys[0], VOTE, signatures[0]), max(repeat, 20))
    one_ed25519 = _median_s(lambda: ed_verify[0].verify(VOTE, ed_signatures[0]), max(repeat, 200))
    fast = _median_s(lambda: bls.fast_aggregate_verify(keys, VOTE, aggregate), repeat)
    parse_keys = _median_s(lambda: [bls.PublicKey.from_bytes(k) for k in key_bytes], 1)
    parse_signatures = _median_s(lambda: [bls.Signature.from_bytes(s) for s in signature_bytes], 1)
    collect = _median_s(lambda: bls.aggregate(signatures), repeat)
    ed_quorum = _median_s(ed25519_quorum, repeat)
    return {
        "signers": signers,
        "repeat": repeat,
        "bls_verify_s": one_verify,
        "ed25519_verify_s": one_ed25519,
        "bls_verify_in_ed25519_verifies": one_verify / one_ed25519,
        "bls_fast_aggregate_verify_s": fast,
        "ed25519_quorum_s": ed_quorum,
        "ratio_ed25519_quorum_to_bls_certificate": ed_quorum / fast,
        "bls_aggregate_signatures_s": collect,
        "bls_parse_keys_once_s": parse_keys,
        "bls_parse_signatures_s": parse_signatures,
        "note": (
            "medians of wall time; BLS keys kept (parsed and validated once, V2.4); Ed25519 "
            "checks with PyNaCl VerifyKey.verify, keys built beforehand; one message (a COMMIT "
            "vote of version 2) signed by every signer"
        ),
    }


def main() -> None:
    """Print :func:`measure`'s result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--signers", type=int, default=DEFAULT_SIGNERS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.signers, args.repeat), indent=1))


if __name__ == "__main__":
    main()
