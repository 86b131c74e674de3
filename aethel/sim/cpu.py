"""Virtual CPU costs of WAN-7 (spec/performance.md): one CPU per node, events one at a time.

The constants are the spec's (deterministic: virtual time must not depend on the host), taken
from measurements on the reference machine:

* Ed25519 signature verification 62 us, signing 20 us (PyNaCl / libsodium);
* proof verification 1 ms + 130 ns per unit of effort (a new Z3 context per proof, as
  spec/proofs.md requires; a judge transfer proof has effort of about 400).

Every signature a node checks is charged (each vote, each vote inside a certificate, each proof
and transaction of a block) and every proof it verifies; hashing, encoding and state updates are
not. :func:`calibrate` measures the same operations on the host; ``aethel bench consensus``
prints both. Measured here on 2026-11-27 (2-core AMD EPYC shared with other engineers, best of
5): verify 57 us, sign 21 us, a judge transfer proof 1.1-1.6 ms.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Any

US = 1_000


@dataclass(frozen=True, slots=True)
class CpuModel:
    """Virtual CPU cost per operation, in ns (spec/performance.md)."""

    verify_ns: int = 62 * US
    sign_ns: int = 20 * US
    proof_base_ns: int = 1_000 * US
    proof_ns_per_effort: int = 130

    def proof_ns(self, effort: int) -> int:
        """Return the cost of verifying one proof of ``effort``."""
        return self.proof_base_ns + self.proof_ns_per_effort * effort

    def describe(self) -> dict[str, Any]:
        """Return the constants as JSON."""
        return asdict(self)


def calibrate(samples: int = 2_000, repeat: int = 5) -> dict[str, float]:
    """Measure the host's real costs (ns) of the operations :class:`CpuModel` charges."""
    from aethel.encoding import Domain, KeyPair, signing_bytes, verify_signature_bytes
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

    judge = Judge(KeyPair.generate(rng))
    sender, receiver = KeyPair.generate(rng), KeyPair.generate(rng)
    proofs = [
        judge.prove_transfer(
            sign_transfer(sender, receiver=receiver.public_key, amount=10 + i, nonce=i), 10**6, i
        )
        for i in range(50)
    ]
    efforts = [verify_proof(p).effort for p in proofs]
    return {
        "mean_proof_effort": sum(efforts) / len(efforts),
        "verify_ns": best(
            lambda: [
                verify_signature_bytes(key.public_key, p, s)
                for p, s in zip(payloads, signatures, strict=True)
            ],
            samples,
        ),
        "sign_ns": best(lambda: [key.sign_bytes(p) for p in payloads], samples),
        "proof_ns": best(lambda: [verify_proof(p) for p in proofs], len(proofs)),
    }
