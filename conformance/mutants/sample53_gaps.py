"""Mutants for the gaps the mechanical sample of 80 (seed 53) found: each is the way an
outsider's implementation could get the behaviour wrong, caught by the case written for the
mechanical survivor (reports/selftest/triage-sample80-seed53.md).

* ``bls-keygen-short-seed-padded``: KeyGen pads a seed shorter than 32 bytes with zeros instead
  of refusing it (V2.3); caught by the BLS vector keygen/seed-of-31-bytes.
* ``mempool-unknown-proof-admitted``: the mempool refuses proofs found invalid and admits those
  whose budget ran out (``unknown`` is "not invalid"); caught by suite/test_mempool.py::
  test_a_proof_that_does_not_verify_is_refused_naming_r1_5[budget-runs-out].
* ``v2-one-region-table-refused``: a region table of one region is refused, as if a collector
  needed a choice of regions (V2.10); caught by suite/test_consensus_v2.py::
  test_a_set_in_one_region_has_the_leader_collect.
"""

from __future__ import annotations

from aethel.consensus.v2.collector import RegionTable
from aethel.crypto import bls
from aethel.encoding import parse_hex
from aethel.proofs.model import proof_from_json
from aethel.proofs.verifier import Verdict
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import ReferenceMempool, ReferenceMempoolObject
from conformance.adapters.reference_v2 import ReferenceConsensusV2
from conformance.mutants import Mutant


class PaddedSeeds(ReferenceConsensusV2):
    """Defect: a seed shorter than KeyGen's 32 bytes is padded with zero bytes."""

    @rejecting
    def keygen(self, seed: Hex, key_info: Hex) -> JSON:
        ikm = parse_hex(seed).ljust(bls.MIN_SEED_SIZE, b"\0")
        return super().keygen(ikm.hex(), key_info)


class PaddedSeedsImplementation(ReferenceImplementation):
    name = "mutant-bls-keygen-short-seed-padded"

    def make_consensus_v2(self) -> object:
        return PaddedSeeds()


class UnknownAdmittedPoolObject(ReferenceMempoolObject):
    """Defect: a validly signed proof the solver could not decide is admitted (difficulty 0)."""

    @rejecting
    def add_proof(self, proof: JSON) -> JSON:
        parsed = proof_from_json(proof)
        result = self.pool.verifier.verify(parsed)
        if result.verdict is Verdict.UNKNOWN and parsed.is_signature_valid():
            pending = self.pool._insert(parsed, result)
            return {"proof_id": parsed.proof_id.hex(), "difficulty": pending.difficulty}
        return super().add_proof(proof)


class UnknownAdmittedPool(ReferenceMempool):
    @rejecting
    def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
        return UnknownAdmittedPoolObject(capacity, judge_seed)


class UnknownAdmittedImplementation(ReferenceImplementation):
    name = "mutant-mempool-unknown-proof-admitted"

    def make_mempool(self) -> object:
        return UnknownAdmittedPool()


class TwoRegionsAtLeast(ReferenceConsensusV2):
    """Defect: a region table must list two regions or more."""

    def region_table(self, regions: JSON, latency_ms: JSON) -> RegionTable:
        if isinstance(regions, list) and len(regions) < 2:
            raise Rejected("a region table lists at least two regions", "V2.10")
        return super().region_table(regions, latency_ms)


class TwoRegionsAtLeastImplementation(ReferenceImplementation):
    name = "mutant-v2-one-region-table-refused"

    def make_consensus_v2(self) -> object:
        return TwoRegionsAtLeast()


MUTANTS = [
    Mutant(
        name="bls-keygen-short-seed-padded",
        defect="KeyGen pads a seed shorter than 32 bytes with zeros instead of refusing it",
        breaks=("V2.3",),
        capabilities=("consensus-v2",),
        build=PaddedSeedsImplementation,
    ),
    Mutant(
        name="mempool-unknown-proof-admitted",
        defect="a proof whose budget ran out (unknown) is admitted; only invalid ones are refused",
        breaks=("R1.5",),
        capabilities=("mempool",),
        build=UnknownAdmittedImplementation,
    ),
    Mutant(
        name="v2-one-region-table-refused",
        defect="a region table of one region is refused",
        breaks=("V2.10",),
        capabilities=("consensus-v2",),
        build=TwoRegionsAtLeastImplementation,
    ),
]
