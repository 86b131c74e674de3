"""Node services for simulated replicas: memoized across nodes, charged per node in CPU time.

Signature checks, proof verification and block execution are pure functions of their inputs,
so the simulator computes each distinct one once (for real: PyNaCl, Z3, the ledger transition)
and serves the result to every other simulated node that asks, while charging each asking node
the virtual CPU time of doing the work itself (:class:`aethel.sim.cpu.CpuModel`). Every
simulation result says so (``memoization``). Memo hits and real computations are counted.

Protocol version 2's BLS work is served the same way (:class:`SimAggregateChecker`,
:class:`SimCertificateChecker` for aggregate certificates), charged by
:class:`aethel.sim.cpu.BlsCpuModel`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import BlockVerdict, Execution
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator
from aethel.consensus.signing import SignatureItem
from aethel.consensus.v2.checks import DIRECT
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import aggregate_certificates, check_certificate
from aethel.crypto import _blst, bls
from aethel.encoding import KeyPair, verify_signature_bytes
from aethel.errors import UsageError
from aethel.sim.cpu import FREE_BLS, BlsCpuModel, CpuModel

#: Memo entries kept before a memo is cleared (bounded memory in long runs).
MEMO_LIMIT = 4_000_000


class Meter:
    """The virtual CPU time (ns) charged to the node whose event is being processed."""

    __slots__ = ("ns",)

    def __init__(self) -> None:
        self.ns = 0


@dataclass(slots=True)
class MemoStats:
    """How much real work the memos saved."""

    signature_checks: int = 0
    signature_hits: int = 0
    batch_hits: int = 0
    blocks_validated: int = 0
    block_hits: int = 0
    executions: int = 0
    execution_hits: int = 0
    signatures_made: int = 0


class SimSignatureChecker:
    """Ed25519 checks memoized on (key, payload, signature); each call charged to the meter."""

    def __init__(self, meter: Meter, cpu: CpuModel, stats: MemoStats) -> None:
        self.meter = meter
        self.cost = cpu.verify_ns
        self.stats = stats
        self._memo: dict[SignatureItem, bool] = {}
        self._batches: dict[bytes, list[bool]] = {}

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        """Charge one check; return the memoized or freshly computed verdict."""
        self.meter.ns += self.cost
        item = (public_key, payload, signature)
        verdict = self._memo.get(item)
        if verdict is None:
            if len(self._memo) > MEMO_LIMIT:
                self._memo.clear()
            verdict = self._memo[item] = verify_signature_bytes(public_key, payload, signature)
            self.stats.signature_checks += 1
        else:
            self.stats.signature_hits += 1
        return verdict

    def verify_batch(self, items: Sequence[SignatureItem], batch_id: bytes | None) -> list[bool]:
        """Charge one check per item; memoize the whole batch by its content hash."""
        self.meter.ns += self.cost * len(items)
        if batch_id is not None:
            cached = self._batches.get(batch_id)
            if cached is not None:
                self.stats.batch_hits += 1
                return cached
        memo = self._memo
        verdicts = []
        for item in items:
            verdict = memo.get(item)
            if verdict is None:
                verdict = memo[item] = verify_signature_bytes(*item)
                self.stats.signature_checks += 1
            else:
                self.stats.signature_hits += 1
            verdicts.append(verdict)
        if batch_id is not None:
            if len(self._batches) > 10_000:
                self._batches.clear()
            self._batches[batch_id] = verdicts
        return verdicts


class SimCertificateChecker:
    """Whole-certificate checks memoized on (content hash, validator stakes); charged per vote.

    The verdict of :func:`aethel.consensus.votes.check_certificate` is a pure function of the
    certificate and the validator set, so it is computed once (for real) per distinct pair.
    """

    def __init__(
        self,
        checker: SimSignatureChecker,
        meter: Meter,
        cpu: CpuModel,
        bls_cpu: BlsCpuModel | None = None,
        aggregates: SimAggregateChecker | None = None,
    ) -> None:
        self.checker = checker
        self.meter = meter
        self.cost = cpu.verify_ns
        self.bls_cpu = bls_cpu or BlsCpuModel()
        self._memo: dict[tuple[bytes, int], str] = {}
        self._fingerprints: dict[int, tuple[ValidatorSet, int]] = {}
        # Charged above per certificate; the aggregate's verdict shared with the collectors'.
        self._aggregates = aggregate_certificates(
            DIRECT if aggregates is None else aggregates.uncharged()
        )

    def _fingerprint(self, validators: ValidatorSet) -> int:
        cached = self._fingerprints.get(id(validators))
        if cached is not None and cached[0] is validators:
            return cached[1]
        value = hash(tuple((v.id, v.public_key, v.stake) for v in validators.validators))
        self._fingerprints[id(validators)] = (validators, value)
        return value

    def __call__(self, certificate: Any, validators: ValidatorSet) -> str:
        """Return "" if valid, else the reason; charge one check per vote (version 1), or the
        aggregate's parse and FastAggregateVerify over its signers (version 2)."""
        if certificate.v2 is not None:
            signers = len(certificate.v2.members())
            self.meter.ns += self.bls_cpu.parse_ns + self.bls_cpu.aggregate_verify_ns(signers)
        else:
            self.meter.ns += self.cost * len(certificate.votes)
        key = (certificate.content_hash, self._fingerprint(validators))
        reason = self._memo.get(key)
        if reason is None:
            saved = self.meter.ns
            if certificate.v2 is not None:
                reason = self._memo[key] = self._aggregates(certificate, validators)
            else:
                reason = self._memo[key] = check_certificate(certificate, validators, self.checker)
            self.meter.ns = saved  # already charged above
        return reason


#: Validator counts from which a message's fixed-base table pays for itself: built once per
#: message (about 8,000 point additions with 8-bit digits), it makes each signature of that
#: message 32 point additions instead of one scalar multiplication (about 115 us instead of
#: 250 us, measured on the reference machine).
TABLE_MIN_SIGNERS = 512
#: From this many validators, 10-bit digits (26 additions per signature, 27,000 to build).
WIDE_TABLE_MIN_SIGNERS = 5_000
#: Fixed-base tables kept (one per recent message).
TABLES_KEPT = 4
#: Up to this many parts an aggregate is cheaper added up than multiplied out: a scalar
#: multiplication costs about 80 additions, one through a fixed-base table about 26-32.
FEW_PARTS = 64
FEW_PARTS_WITH_TABLE = 24


class BlsSignatures:
    """What the simulator knows of the BLS vote signatures its validators made (V2.3, V2.5).

    Signing is computed for real (the bytes travel, are aggregated and end in the trace), but
    the simulator does parts of it once instead of once per vote, with the same result:

    * every vote for one target signs the same bytes, so their hash to G2 is computed once per
      distinct message;
    * with ``signers`` >= :data:`TABLE_MIN_SIGNERS`, multiples of a message's hash are tabled
      once (:class:`FixedBaseTable`), and [sk] H(m) is a sum of the table's entries for sk's
      digits: the same point as the scalar multiplication, so the same bytes;
    * a signature a simulated validator made is kept with its point, so parsing those exact
      bytes again (decompression and the subgroup check) returns that point instead of
      recomputing it: decoding the canonical encoding of a point gives back the point;
    * it is kept with its origin (:class:`Origin`: the message, the signer's key and secret
      scalar), and so is an aggregate of such signatures of one message, which is computed as
      one multiple [sum sk_i] H(m) instead of one point addition per signature (the same point)
      when it has more parts than :data:`FEW_PARTS` (:data:`FEW_PARTS_WITH_TABLE`), and by
      adding its parts otherwise;
    * a check of such bytes against their message and exactly their signers' keys is decided
      without a pairing: it holds by the pairing's bilinearity (e(sum pk_i, H(m)) =
      e(g1, sum [sk_i] H(m))), which is what the real check computes (its keys' sum at infinity
      aside: with keys derived from random seeds, probability about 2^-255).

    Any other check (other bytes, another message, other keys: a forger's aggregate, a vote in
    someone else's name) is computed for real, and so is every parse of bytes the simulator did
    not make. The CPU time each node is charged does not change (:class:`BlsCpuModel`).
    """

    __slots__ = ("_hashed", "_made", "_origins", "_tables", "signers")

    def __init__(self, signers: int = 0) -> None:
        self.signers = signers
        self._hashed: dict[bytes, _blst.G2] = {}
        self._tables: dict[bytes, FixedBaseTable] = {}
        self._made: dict[bytes, bls.Signature] = {}
        #: signature or aggregate bytes -> its origin.
        self._origins: dict[bytes, Origin] = {}

    def _hash(self, message: bytes) -> _blst.G2:
        hashed = self._hashed.get(message)
        if hashed is None:
            if len(self._hashed) > 4_096:
                self._hashed.clear()
            hashed = self._hashed[message] = _blst.hash_to_g2(message, bls.SIGNATURE_DST)
        return hashed

    def _table(self, message: bytes) -> FixedBaseTable | None:
        if self.signers < TABLE_MIN_SIGNERS:
            return None
        table = self._tables.get(message)
        if table is None:
            if len(self._tables) >= TABLES_KEPT:
                del self._tables[next(iter(self._tables))]
            bits = 10 if self.signers >= WIDE_TABLE_MIN_SIGNERS else 8
            table = self._tables[message] = FixedBaseTable.build(self._hash(message), bits)
        return table

    def sign(
        self, secret: bls.SecretKey, message: bytes, key: bytes | None = None
    ) -> bls.Signature:
        """Return ``secret``'s signature of ``message``: the bytes
        :meth:`aethel.crypto.bls.SecretKey.sign` returns ([sk] hash_to_G2(message)); ``key``:
        the bytes of ``secret``'s public key, kept as the signature's origin."""
        table = self._table(message)
        if table is None:
            point = _blst.mul_g2(self._hash(message), secret.scalar)
        else:
            point = table.multiply(secret.scalar)
        signature = bls.Signature(_blst.encode_g2(point), point)
        if len(self._made) > MEMO_LIMIT:
            self._made.clear()
            self._origins.clear()
        self._made[signature.data] = signature
        if key is not None:
            self._origins[signature.data] = Origin(message, (key,), secret.scalar)
        return signature

    def aggregate(self, parts: Sequence[bls.Signature]) -> bls.Signature | None:
        """Return the sum of ``parts`` if each has an origin and they sign one message, computed
        as [sum of their secret scalars mod r] H(m), the same point as adding them (H(m) has
        order r); None otherwise (the caller adds them for real)."""
        origins = [self._origins.get(part.data) for part in parts]
        known = [origin for origin in origins if origin is not None]
        if not parts or len(known) != len(parts):
            return None
        message = known[0].message
        if any(origin.message != message for origin in known):
            return None
        scalar = sum(origin.scalar for origin in known) % bls.ORDER
        if scalar == 0:
            return None  # the point at infinity: left to the real addition
        table = self._table(message)
        if len(parts) <= (FEW_PARTS_WITH_TABLE if table is not None else FEW_PARTS):
            point = _blst.sum_g2([part.point for part in parts])
        elif table is None:
            point = _blst.mul_g2(self._hash(message), scalar)
        else:
            point = table.multiply(scalar)
        aggregate = bls.Signature(_blst.encode_g2(point), point)
        keys = tuple(sorted(key for origin in known for key in origin.keys))
        self._origins[aggregate.data] = Origin(message, keys, scalar)
        return aggregate

    def signs(self, data: bytes, message: bytes, keys: Sequence[bytes]) -> bool:
        """Return True if ``data`` is a signature or aggregate the simulated validators made of
        ``message`` by exactly ``keys`` (False: not known, so to be checked for real)."""
        origin = self._origins.get(data)
        return (
            origin is not None
            and origin.message == message
            and len(origin.keys) == len(keys)
            and origin.keys == tuple(sorted(keys))
        )

    def parsed(self, data: bytes) -> bls.Signature | None:
        """Return the signature whose bytes are ``data`` if a simulated validator made it."""
        return self._made.get(data)


@dataclass(frozen=True, slots=True)
class Origin:
    """How a signature or aggregate was made: the message, the signers' public keys (sorted, a
    signer once per signature it added) and the sum of their secret scalars mod r."""

    message: bytes
    keys: tuple[bytes, ...]
    scalar: int


#: The group order r is below 2^255.
SCALAR_BITS = 255


@dataclass(frozen=True, slots=True)
class FixedBaseTable:
    """The multiples [d * 2^(bits * j)] base for digits 1 <= d < 2^bits, rows j covering 255-bit
    scalars: [k] base is then one addition per non-zero digit of k, the same point as the
    scalar multiplication."""

    bits: int
    rows: tuple[tuple[_blst.G2, ...], ...]

    @classmethod
    def build(cls, base: _blst.G2, bits: int) -> FixedBaseTable:
        """Tabulate ``base`` for digits of ``bits`` bits."""
        rows = []
        for _ in range(-(-SCALAR_BITS // bits)):
            multiples = _blst.multiples_g2(base, 1 << bits)  # [1] base ... [2^bits] base
            rows.append((base, *multiples[:-1]))  # index 0 (digit 0) is never read
            base = multiples[-1]  # 2^bits times this row's base
        return cls(bits, tuple(rows))

    def multiply(self, scalar: int) -> _blst.G2:
        """Return [scalar] base for 0 < scalar < 2^255."""
        if not 0 < scalar < 1 << SCALAR_BITS:
            raise UsageError("a BLS secret key is an integer in [1, r)")
        bits, mask = self.bits, (1 << self.bits) - 1
        terms = []
        for row in self.rows:
            digit = scalar & mask
            scalar >>= bits
            if digit:
                terms.append(row[digit])
        return _blst.sum_g2(terms)  # scalar > 0 has a non-zero digit


class SimAggregateChecker:
    """Protocol version 2's BLS operations memoized across nodes, each call charged to the
    meter by :class:`aethel.sim.cpu.BlsCpuModel` (V2.5, V2.8, V2.9)."""

    def __init__(self, meter: Meter, cpu: BlsCpuModel, made: BlsSignatures | None = None) -> None:
        self.meter = meter
        self.cpu = cpu
        self.made = made or BlsSignatures()
        self._signatures: dict[bytes, bls.Signature | str] = {}
        self._verdicts: dict[tuple[bytes, bytes, bytes], bool] = {}

    def uncharged(self) -> SimAggregateChecker:
        """Return the same operations over the same memos, charging nothing (for a check whose
        whole cost its caller charges: :class:`SimCertificateChecker`)."""
        twin = SimAggregateChecker(Meter(), FREE_BLS, self.made)
        twin._signatures = self._signatures
        twin._verdicts = self._verdicts
        return twin

    def signature(self, data: bytes) -> bls.Signature:
        """Charge one decompression and subgroup check; parse once per distinct bytes (a
        signature a simulated validator made is not parsed at all: :class:`BlsSignatures`)."""
        self.meter.ns += self.cpu.parse_ns
        made = self.made.parsed(data)
        if made is not None:
            return made
        parsed = self._signatures.get(data)
        if parsed is None:
            if len(self._signatures) > MEMO_LIMIT:
                self._signatures.clear()
            try:
                parsed = self._signatures[data] = bls.Signature.from_bytes(data)
            except bls.BlsError as exc:
                self._signatures[data] = exc.detail
                raise
        if isinstance(parsed, str):
            raise bls.BlsError("V2.5", parsed)
        return parsed

    def _verdict(
        self, keys: Sequence[bls.PublicKey], message: bytes, signature: bls.Signature
    ) -> bool:
        if self.made.signs(signature.data, message, [key.data for key in keys]):
            return True
        digest = hashlib.sha256(b"".join(key.data for key in keys)).digest()
        memo_key = (digest, message, signature.data)
        verdict = self._verdicts.get(memo_key)
        if verdict is None:
            if len(self._verdicts) > MEMO_LIMIT:
                self._verdicts.clear()
            verdict = self._verdicts[memo_key] = bls.fast_aggregate_verify(keys, message, signature)
        return verdict

    def verify(self, key: bls.PublicKey, message: bytes, signature: bls.Signature) -> bool:
        """Charge one verification."""
        self.meter.ns += self.cpu.verify_ns
        return self._verdict([key], message, signature)

    def fast_aggregate_verify(
        self, keys: Sequence[bls.PublicKey], message: bytes, signature: bls.Signature
    ) -> bool:
        """Charge the key additions and one verification."""
        self.meter.ns += self.cpu.aggregate_verify_ns(len(keys))
        return bool(keys) and self._verdict(keys, message, signature)

    def aggregate(self, signatures: Sequence[bls.Signature]) -> bls.Signature:
        """Charge one addition per signature after the first (computed for real)."""
        self.meter.ns += self.cpu.signature_add_ns * max(0, len(signatures) - 1)
        return self.made.aggregate(signatures) or bls.aggregate(signatures)


class SimSigner:
    """A validator's signer that charges signing time to the meter."""

    __slots__ = (
        "bls_cost",
        "bls_key",
        "bls_public",
        "cost",
        "key",
        "made",
        "meter",
        "stats",
        "validator_id",
    )

    def __init__(
        self,
        validator_id: str,
        key: KeyPair,
        meter: Meter,
        cpu: CpuModel,
        stats: MemoStats,
        bls_key: bls.SecretKey | None = None,
        bls_cpu: BlsCpuModel | None = None,
        made: BlsSignatures | None = None,
        bls_public: bytes | None = None,
    ) -> None:
        self.validator_id = validator_id
        self.key = key
        self.meter = meter
        self.cost = cpu.sign_ns
        self.stats = stats
        self.bls_key = bls_key
        self.bls_cost = (bls_cpu or BlsCpuModel()).sign_ns
        self.made = made or BlsSignatures()
        #: The bytes of the BLS public key (the origin of the signatures it makes).
        self.bls_public = bls_public

    @property
    def public_key(self) -> bytes:
        """Return the public key."""
        return self.key.public_key

    def sign(self, payload: bytes) -> bytes:
        """Sign for real and charge the time."""
        self.meter.ns += self.cost
        self.stats.signatures_made += 1
        return self.key.sign_bytes(payload)

    def sign_vote(self, message: bytes) -> bytes:
        """Sign a version-2 vote with BLS for real (V2.3) and charge the time."""
        if self.bls_key is None:
            raise UsageError(f"validator {self.validator_id} has no BLS key for version 2")
        self.meter.ns += self.bls_cost
        self.stats.signatures_made += 1
        return self.made.sign(self.bls_key, message, self.bls_public).data


class SimBlockValidator:
    """Block validation (real Z3) memoized on (pre-state root, digest); charged per proof."""

    def __init__(
        self, inner: LedgerValidator, meter: Meter, cpu: CpuModel, stats: MemoStats
    ) -> None:
        self.inner = inner
        self.meter = meter
        self.cpu = cpu
        self.stats = stats
        self._memo: dict[tuple[bytes, bytes], BlockVerdict] = {}
        self._proof_memo: dict[tuple[bytes, int], bool] = {}

    def validate_block(self, block: ProofBlock, pre_root: bytes) -> BlockVerdict:
        """Charge every proof (by its effort) and every proof and transaction signature."""
        key = (pre_root, block.digest)
        verdict = self._memo.get(key)
        if verdict is None:
            verdict = self._memo[key] = self.inner.validate_block(block, pre_root)
            self.stats.blocks_validated += 1
        else:
            self.stats.block_hits += 1
        cpu = self.cpu
        self.meter.ns += cpu.verify_ns * (len(block.proofs) + len(block.transactions))
        self.meter.ns += sum(cpu.proof_ns(check.effort) for check in verdict.checks)
        return verdict

    def is_proof_invalid(self, block: ProofBlock, index: int) -> bool:
        """Charge one proof re-verification; compute once per (block, index)."""
        self.meter.ns += self.cpu.proof_base_ns + self.cpu.verify_ns
        key = (block.digest, index)
        verdict = self._proof_memo.get(key)
        if verdict is None:
            verdict = self._proof_memo[key] = self.inner.is_proof_invalid(block, index)
        return verdict


class SimExecutor:
    """Block execution memoized on (pre-state root, digest); not charged (WAN-7 charges
    signatures and proofs only)."""

    def __init__(
        self, inner: LedgerExecutor, meter: Meter, cpu: CpuModel, stats: MemoStats
    ) -> None:
        self.inner = inner
        self.meter = meter
        self.cpu = cpu
        self.stats = stats
        self._memo: dict[tuple[bytes, bytes], Execution] = {}

    def genesis_root(self) -> bytes:
        """Return the genesis root."""
        return self.inner.genesis_root()

    def get_stakes(self, root: bytes) -> Mapping[str, int]:
        """Return the stakes at ``root``."""
        return self.inner.get_stakes(root)

    def is_slashed(self, root: bytes, slash_key: tuple[str, str, int]) -> bool:
        """Return True if ``slash_key`` is already slashed at ``root``."""
        return self.inner.is_slashed(root, slash_key)

    def execute(
        self, block: ProofBlock, verdict: BlockVerdict, pre_root: bytes, validators: ValidatorSet
    ) -> Execution:
        """Charge the ledger updates; compute once per distinct (pre-state, block)."""
        key = (pre_root, block.digest)
        execution = self._memo.get(key)
        if execution is None:
            execution = self._memo[key] = self.inner.execute(block, verdict, pre_root, validators)
            self.stats.executions += 1
        else:
            self.stats.execution_hits += 1
        return execution  # state updates are not charged (spec/performance.md)


def describe_memoization(version_2: bool = False) -> dict[str, Any]:
    """Return the statement every result carries about what is memoized (``version_2``: the
    run has heights of protocol version 2, whose BLS work is memoized too)."""
    statement = _memoization()
    if version_2:
        statement["bls"] = (
            "version 2: a vote signature is parsed once per distinct bytes, an aggregate "
            "certificate checked once per distinct (certificate, validator set), an aggregate "
            "verified once per distinct (keys, message, signature); every node is charged the "
            "CPU time of doing it (BlsCpuModel)"
        )
    return statement


def _memoization() -> dict[str, Any]:
    return {
        "signatures": "identical (key, payload, signature) checks are computed once and shared "
        "across simulated nodes; every node is charged the CPU time of a real check",
        "proofs": "a block's proofs are re-verified with Z3 once per distinct (pre-state, "
        "block) and the verdict shared; every node is charged the CPU time per proof",
        "execution": "a block's transition is computed once per distinct (pre-state, block) "
        "and shared (WAN-7 charges no CPU time for state updates)",
        "certificates": "a certificate's check is computed once per distinct (certificate, "
        "validator set); every node is charged one signature check per vote in it",
    }
