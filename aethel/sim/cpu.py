"""Virtual CPU costs: each simulated node has one CPU and processes events one at a time.

The constants are deterministic (virtual time must not depend on the host) and were calibrated
on the reference machine (2-core AMD EPYC, CPython 3.11, PyNaCl 1.6, z3 4.15.4; shared with other
engineers, best of 5 runs) with :func:`calibrate`; ``aethel bench consensus`` prints both the
constants and a fresh measurement. Measured 2026-11-27:

* Ed25519 verify 57 us, sign 21 us (PyNaCl / libsodium);
* canonical JSON parse 7.9 ns per byte (a message is parsed once on arrival);
* one judge transfer proof re-verified with Z3 in a fresh context: 1.57 ms;
* dispatch of one message by the replica outside crypto: about 10 us;
* applying one ledger update (transfer, reward share or slash) and rehashing: about 20 us.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Any

US = 1_000


@dataclass(frozen=True, slots=True)
class CpuModel:
    """Virtual CPU cost per operation, in ns."""

    verify_ns: int = 57 * US
    sign_ns: int = 21 * US
    parse_ns_per_byte: int = 8
    message_ns: int = 10 * US
    proof_ns: int = 1_570 * US
    update_ns: int = 20 * US

    def describe(self) -> dict[str, Any]:
        """Return the constants as JSON."""
        return asdict(self)


def calibrate(samples: int = 2_000, repeat: int = 5) -> dict[str, float]:
    """Measure the host's real costs (ns) of the operations :class:`CpuModel` charges."""
    from aethel.encoding import (
        Domain,
        KeyPair,
        canonical_json,
        parse_canonical_json,
        signing_bytes,
        verify_signature_bytes,
    )
    from aethel.proofs.judge import Judge
    from aethel.proofs.model import sign_transfer
    from aethel.proofs.verifier import verify_proof

    rng = random.Random(1)
    key = KeyPair.generate(rng)
    payloads = [
        signing_bytes(Domain.PREPARE, {"height": i, "digest": "ab" * 32, "validator": f"v{i}"})
        for i in range(samples)
    ]
    signatures = [key.sign_bytes(p) for p in payloads]

    def best(function: Any, count: int) -> float:
        fastest = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            function()
            fastest = min(fastest, time.perf_counter() - start)
        return fastest / count * 1e9

    blob = canonical_json([[f"v{i:05d}", s.hex()] for i, s in enumerate(signatures)])
    judge = Judge(KeyPair.generate(rng))
    sender, receiver = KeyPair.generate(rng), KeyPair.generate(rng)
    proofs = [
        judge.prove_transfer(
            sign_transfer(sender, receiver=receiver.public_key, amount=10 + i, nonce=i), 10**6, i
        )
        for i in range(50)
    ]
    return {
        "verify_ns": best(
            lambda: [
                verify_signature_bytes(key.public_key, p, s)
                for p, s in zip(payloads, signatures, strict=True)
            ],
            samples,
        ),
        "sign_ns": best(lambda: [key.sign_bytes(p) for p in payloads], samples),
        "parse_ns_per_byte": best(lambda: parse_canonical_json(blob), len(blob)),
        "proof_ns": best(lambda: [verify_proof(p) for p in proofs], len(proofs)),
    }
