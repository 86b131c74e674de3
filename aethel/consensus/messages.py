"""Consensus messages: PRE-PREPARE, PREPARE, COMMIT, certificates, VIEW-CHANGE, NEW-VIEW.

Every message is signed (R7.5): the signature covers ``domain tag || 0x00 || canonical JSON of
the signed body`` (E7), with one domain tag per message type so no signature can be replayed as
another type. The signed body of each type is spelled out by its ``body()`` method.

* PRE-PREPARE (leader): height, view, block digest, leader; carries the block itself.
* PREPARE (validator): height, view, digest.
* COMMIT (validator): height, view, digest and the post-state root, so a commit certificate
  vouches for the state that results from the block (R3.1, R3.2).
* A certificate is a set of PREPAREs (or COMMITs) for one (height, view, digest[, root]) whose
  stake reaches q(W) (R2.3). It is self-authenticating (every vote in it is signed), so the
  collector relays it without a signature of its own.
* VIEW-CHANGE (validator): height, new view and its highest prepared (view, digest) claim; the
  prepare certificate and block that back the claim ride along.
* NEW-VIEW (new leader): q(W) VIEW-CHANGEs, the certificate of the highest claim and the
  PRE-PREPARE of the block it re-proposes (R2.6).

Messages are immutable; each caches its signing payload and wire size, because the simulator
hands one object to thousands of receivers and the canonical encoding is the hot path.

Protocol version 2 (spec/consensus-v2.md) uses the same types. A PREPARE or COMMIT of version 2
carries a BLS signature (96 bytes) over its vote bytes without the validator (V2.3), so a vote's
signature says its version (:attr:`Prepare.version`); its ``payload`` is what that signature
signs. The other signed objects keep Ed25519 and sign the same body under the ``/v2`` domain tag
of their type (V2.2): the wire form does not say which, so ``payload`` is the version-1 bytes and
``payload_for(2)`` the version-2 bytes, checked by the version of the message's height. A
certificate of version 2 is a signer bitmap and one aggregate (V2.7): ``votes`` is empty and
``v2`` holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar, Union

from aethel.consensus.v2.certificate import Certificate as AggregateCertificate
from aethel.consensus.v2.certificate import VoteTarget
from aethel.crypto.bls import SIGNATURE_SIZE as BLS_SIGNATURE_SIZE
from aethel.encoding import (
    Domain,
    canonical_json,
    domain_of,
    sha256,
    signing_bytes,
    to_hex,
)
from aethel.errors import UsageError

if TYPE_CHECKING:
    from aethel.consensus.block import ProofBlock
    from aethel.consensus.evidence import Evidence
    from aethel.consensus.signing import Signer

NO_VIEW = -1


def _cache(obj: object, name: str, value: Any) -> Any:
    object.__setattr__(obj, name, value)
    return value


def _versioned_payload(message: Any, version: int) -> bytes:
    """Return the bytes ``message`` (an Ed25519-signed object) signs in ``version`` (V2.2):
    its cached version-1 payload, or its body under the type's ``/v2`` tag (cached too)."""
    if version == 1:
        payload: bytes = message.payload
        return payload
    cached: bytes = message._payload_v2
    if not cached:
        cached = _cache(
            message,
            "_payload_v2",
            signing_bytes(domain_of(message.DOMAIN, version), message.body()),
        )
    return cached


def _vote_version(signature: bytes) -> int:
    """Return a vote's protocol version by its signature scheme: BLS (96 bytes) is version 2."""
    return 2 if len(signature) == BLS_SIGNATURE_SIZE else 1


class _WireSized:
    """A message whose wire size is the length of its canonical encoding, computed once."""

    __slots__ = ()
    _size: int

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form."""
        raise NotImplementedError

    @property
    def wire_size(self) -> int:
        """Return the length of the canonical encoding (what the network carries)."""
        return self._size if self._size >= 0 else _cache(self, "_size", _wire_len(self))


class _VoteForm(_WireSized):
    """What a PREPARE and a COMMIT share: the version their signature's scheme says and the
    bytes it signs (E7's body with the validator, or V2.3's vote target)."""

    __slots__ = ()
    DOMAIN: ClassVar[Domain]
    validator: str
    signature: bytes

    @property
    def target(self) -> VoteTarget:
        """Return what the vote is for, as version 2 signs it (V2.3)."""
        raise NotImplementedError

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", self.payload_for(self.version))

    def body(self) -> dict[str, object]:
        """Return the signed body (E7): what the vote is for, as version 2 signs it, and the
        validator (the type is the vote's phase)."""
        return {**self.target.body(), "validator": self.validator}

    @property
    def version(self) -> int:
        """Return the protocol version its signature's scheme says (V2.2, V2.3)."""
        return _vote_version(self.signature)

    def payload_for(self, version: int) -> bytes:
        """Return the bytes a vote of ``version`` signs: E7's with the validator, or V2.3's."""
        if version == 2:
            return self.target.message()
        return signing_bytes(self.DOMAIN, self.body())

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form (signed body plus signature)."""
        return {**self.body(), "signature": to_hex(self.signature)}


_V = TypeVar("_V", "Prepare", "Commit")


def _signed_vote(
    signer: Signer, version: int, target: VoteTarget, build: Callable[[bytes], _V]
) -> _V:
    """Return the vote ``build`` makes from its signature, signed by ``signer``: BLS over the
    vote target in version 2 (V2.3), Ed25519 over the unsigned vote's payload in version 1."""
    if version == 2:
        return build(signer.sign_vote(target.message()))
    return build(signer.sign(build(b"").payload))


class _SignedForm:
    """An Ed25519-signed message other than a vote: its version-1 payload is E7's bytes of its
    body, and it signs the same body under its type's ``/v2`` tag in version 2 (V2.2)."""

    __slots__ = ()
    DOMAIN: ClassVar[Domain]

    def body(self) -> dict[str, object]:
        """Return the signed body."""
        raise NotImplementedError

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", signing_bytes(self.DOMAIN, self.body()))

    def payload_for(self, version: int) -> bytes:
        """Return the bytes it signs in protocol ``version`` (V2.2)."""
        return _versioned_payload(self, version)


@dataclass(frozen=True, slots=True)
class Prepare(_VoteForm):
    """A PREPARE vote for ``digest`` at (height, view)."""

    DOMAIN: ClassVar[Domain] = Domain.PREPARE
    TYPE: ClassVar[str] = "prepare"

    height: int
    view: int
    digest: bytes
    validator: str
    signature: bytes
    payload: bytes = field(init=False, repr=False, compare=False)
    _size: int = field(default=-1, init=False, repr=False, compare=False)

    @property
    def key(self) -> tuple[bytes, ...]:
        """Return what a validator may sign only once per (height, view) (R2.3)."""
        return (self.digest,)

    @property
    def target(self) -> VoteTarget:
        """Return what the vote is for, as version 2 signs it (V2.3)."""
        return VoteTarget("prepare", self.height, self.view, self.digest)

    @classmethod
    def create(
        cls, signer: Signer, height: int, view: int, digest: bytes, version: int = 1
    ) -> Prepare:
        """Build and sign a PREPARE (version 2: a BLS signature, V2.3)."""
        target = VoteTarget("prepare", height, view, digest)
        return _signed_vote(
            signer, version, target, partial(cls, height, view, digest, signer.validator_id)
        )


@dataclass(frozen=True, slots=True)
class Commit(_VoteForm):
    """A COMMIT vote for ``digest`` at (height, view) with the post-state root (R3.2)."""

    DOMAIN: ClassVar[Domain] = Domain.COMMIT
    TYPE: ClassVar[str] = "commit"

    height: int
    view: int
    digest: bytes
    post_root: bytes
    validator: str
    signature: bytes
    payload: bytes = field(init=False, repr=False, compare=False)
    _size: int = field(default=-1, init=False, repr=False, compare=False)

    @property
    def key(self) -> tuple[bytes, ...]:
        """Return what a validator may sign only once per (height, view) (R2.3)."""
        return (self.digest, self.post_root)

    @property
    def target(self) -> VoteTarget:
        """Return what the vote is for, as version 2 signs it (V2.3)."""
        return VoteTarget("commit", self.height, self.view, self.digest, self.post_root)

    @classmethod
    def create(
        cls,
        signer: Signer,
        height: int,
        view: int,
        digest: bytes,
        post_root: bytes,
        version: int = 1,
    ) -> Commit:
        """Build and sign a COMMIT (version 2: a BLS signature, V2.3)."""
        target = VoteTarget("commit", height, view, digest, post_root)
        return _signed_vote(
            signer,
            version,
            target,
            partial(cls, height, view, digest, post_root, signer.validator_id),
        )


Vote: TypeAlias = Prepare | Commit


class _CertificateForm(_WireSized):
    """The form of a prepare or commit certificate: signed votes (version 1) or a signer
    bitmap and one aggregate (version 2, V2.7)."""

    __slots__ = ()
    TYPE: ClassVar[str]
    votes: Sequence[Vote]
    v2: AggregateCertificate | None
    _hash: bytes

    @property
    def target(self) -> VoteTarget:
        """Return what its votes are for."""
        raise NotImplementedError

    @property
    def members(self) -> tuple[str, ...]:
        """Return the validators whose votes the certificate holds (a commit certificate's share
        the reward); version 1 only: the validator set names a bitmap's members
        (:func:`aethel.consensus.votes.certificate_members`)."""
        if self.v2 is not None:
            raise UsageError("a version-2 certificate's members need its validator set")
        return tuple(v.validator for v in self.votes)

    @property
    def content_hash(self) -> bytes:
        """Return SHA-256 of the canonical encoding (identifies the certificate)."""
        return self._hash or _cache(self, "_hash", sha256(canonical_json(self.to_wire())))

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form: the votes' shared fields once (their target, under
        the certificate's type), then (validator, signature) per vote; version 2 its own."""
        if self.v2 is not None:
            return self.v2.to_wire()
        return {
            **self.target.body(),
            "type": self.TYPE,
            "votes": [[v.validator, to_hex(v.signature)] for v in self.votes],
        }

    @property
    def version(self) -> int:
        """Return 2 for an aggregate certificate, 1 for a list of signed votes (V2.2)."""
        return 1 if self.v2 is None else 2

    @property
    def signer_count(self) -> int:
        """Return how many validators signed it."""
        return len(self.votes) if self.v2 is None else len(self.v2.members())


@dataclass(frozen=True, slots=True)
class PrepareCertificate(_CertificateForm):
    """PREPAREs for one (height, view, digest) holding >= q(W) stake (R2.3)."""

    TYPE: ClassVar[str] = "prepare-certificate"

    height: int
    view: int
    digest: bytes
    votes: tuple[Prepare, ...]
    #: Version 2: the signer bitmap and aggregate (V2.7); ``votes`` is then empty.
    v2: AggregateCertificate | None = None
    _size: int = field(default=-1, init=False, repr=False, compare=False)
    _hash: bytes = field(default=b"", init=False, repr=False, compare=False)

    @classmethod
    def of_aggregate(cls, certificate: AggregateCertificate) -> PrepareCertificate:
        """Return the version-2 prepare certificate ``certificate`` (V2.7)."""
        target = certificate.target
        if target.phase != "prepare":
            raise UsageError("a prepare certificate aggregates PREPARE votes")
        return cls(target.height, target.view, target.digest, (), certificate)

    @property
    def target(self) -> VoteTarget:
        """Return what its votes are for."""
        return VoteTarget("prepare", self.height, self.view, self.digest)


@dataclass(frozen=True, slots=True)
class CommitCertificate(_CertificateForm):
    """COMMITs for one (height, view, digest, post_root) holding >= q(W) stake (R2.3, R3.2)."""

    TYPE: ClassVar[str] = "commit-certificate"

    height: int
    view: int
    digest: bytes
    post_root: bytes
    votes: tuple[Commit, ...]
    #: Version 2: the signer bitmap and aggregate (V2.7); ``votes`` is then empty.
    v2: AggregateCertificate | None = None
    _size: int = field(default=-1, init=False, repr=False, compare=False)
    _hash: bytes = field(default=b"", init=False, repr=False, compare=False)

    @classmethod
    def of_aggregate(cls, certificate: AggregateCertificate) -> CommitCertificate:
        """Return the version-2 commit certificate ``certificate`` (V2.7)."""
        target = certificate.target
        if target.phase != "commit" or target.post_root is None:
            raise UsageError("a commit certificate aggregates COMMIT votes")
        return cls(target.height, target.view, target.digest, target.post_root, (), certificate)

    @property
    def target(self) -> VoteTarget:
        """Return what its votes are for."""
        return VoteTarget("commit", self.height, self.view, self.digest, self.post_root)


Certificate: TypeAlias = PrepareCertificate | CommitCertificate


@dataclass(frozen=True, slots=True)
class PrePrepare(_SignedForm):
    """The leader's proposal of ``block`` at (height, view); signs the block digest."""

    DOMAIN: ClassVar[Domain] = Domain.PRE_PREPARE
    TYPE: ClassVar[str] = "pre-prepare"

    height: int
    view: int
    digest: bytes
    leader: str
    block: ProofBlock = field(compare=False)
    signature: bytes
    payload: bytes = field(init=False, repr=False, compare=False)
    _size: int = field(default=-1, init=False, repr=False, compare=False)
    _payload_v2: bytes = field(default=b"", init=False, repr=False, compare=False)

    def body(self) -> dict[str, object]:
        """Return the signed body (the digest binds the block)."""
        return {
            "type": self.TYPE,
            "height": self.height,
            "view": self.view,
            "digest": to_hex(self.digest),
            "leader": self.leader,
        }

    @property
    def key(self) -> tuple[bytes, ...]:
        """Return what a leader may sign only once per (height, view)."""
        return (self.digest,)

    @property
    def validator(self) -> str:
        """Return the signer (the leader)."""
        return self.leader

    @classmethod
    def create(cls, signer: Signer, view: int, block: ProofBlock, version: int = 1) -> PrePrepare:
        """Build and sign a PRE-PREPARE of ``block`` in ``view`` (in ``version``'s domain)."""
        unsigned = cls(block.height, view, block.digest, signer.validator_id, block, b"")
        return cls(
            block.height,
            view,
            block.digest,
            signer.validator_id,
            block,
            signer.sign(unsigned.payload_for(version)),
        )

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form (signed body, block and signature)."""
        return {**self.body(), "block": self.block.to_wire(), "signature": to_hex(self.signature)}

    @property
    def wire_size(self) -> int:
        """Return the length of the canonical encoding."""
        if self._size < 0:
            # The block's encoding is cached on the block; add the envelope around it.
            envelope = {**self.body(), "block": None, "signature": to_hex(self.signature)}
            size = len(canonical_json(envelope)) - len("null") + self.block.wire_size
            object.__setattr__(self, "_size", size)
        return self._size


@dataclass(frozen=True, slots=True)
class ViewChange(_SignedForm, _WireSized):
    """A validator's request to move to ``view`` with its highest prepared claim (R2.6)."""

    DOMAIN: ClassVar[Domain] = Domain.VIEW_CHANGE
    TYPE: ClassVar[str] = "view-change"

    height: int
    view: int
    prepared_view: int
    prepared_digest: bytes | None
    validator: str
    signature: bytes
    prepared: PrepareCertificate | None = field(default=None, compare=False)
    block: ProofBlock | None = field(default=None, compare=False)
    payload: bytes = field(init=False, repr=False, compare=False)
    _size: int = field(default=-1, init=False, repr=False, compare=False)
    _payload_v2: bytes = field(default=b"", init=False, repr=False, compare=False)

    def body(self) -> dict[str, object]:
        """Return the signed body: the claim, not the certificate backing it."""
        return {
            "type": self.TYPE,
            "height": self.height,
            "view": self.view,
            "prepared_view": self.prepared_view,
            "prepared_digest": None
            if self.prepared_digest is None
            else to_hex(self.prepared_digest),
            "validator": self.validator,
        }

    @property
    def key(self) -> tuple[bytes, ...]:
        """Return the claim a validator may sign only once per (height, view)."""
        return (self.prepared_view.to_bytes(8, "big", signed=True), self.prepared_digest or b"")

    @classmethod
    def create(
        cls,
        signer: Signer,
        height: int,
        view: int,
        prepared: PrepareCertificate | None,
        block: ProofBlock | None,
        version: int = 1,
    ) -> ViewChange:
        """Build and sign a VIEW-CHANGE carrying the highest prepare certificate held."""
        prepared_view = NO_VIEW if prepared is None else prepared.view
        digest = None if prepared is None else prepared.digest
        unsigned = cls(height, view, prepared_view, digest, signer.validator_id, b"")
        return cls(
            height,
            view,
            prepared_view,
            digest,
            signer.validator_id,
            signer.sign(unsigned.payload_for(version)),
            prepared,
            block,
        )

    def stripped(self) -> ViewChange:
        """Return the signed claim without the certificate and block (as NEW-VIEW carries it)."""
        if self.prepared is None and self.block is None:
            return self
        return ViewChange(
            self.height,
            self.view,
            self.prepared_view,
            self.prepared_digest,
            self.validator,
            self.signature,
        )

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form."""
        return {
            **self.body(),
            "prepared": None if self.prepared is None else self.prepared.to_wire(),
            "block": None if self.block is None else self.block.to_wire(),
            "signature": to_hex(self.signature),
        }


@dataclass(frozen=True, slots=True)
class NewView(_SignedForm, _WireSized):
    """The new leader's proof that q(W) moved to ``view``, with its re-proposal (R2.6)."""

    DOMAIN: ClassVar[Domain] = Domain.NEW_VIEW
    TYPE: ClassVar[str] = "new-view"

    height: int
    view: int
    leader: str
    view_changes: tuple[ViewChange, ...] = field(compare=False)
    prepared: PrepareCertificate | None = field(compare=False)
    pre_prepare: PrePrepare = field(compare=False)
    signature: bytes
    payload: bytes = field(init=False, repr=False, compare=False)
    _size: int = field(default=-1, init=False, repr=False, compare=False)
    _payload_v2: bytes = field(default=b"", init=False, repr=False, compare=False)

    def body(self) -> dict[str, object]:
        """Return the signed body; the view changes enter through a hash of their signatures."""
        joined = b"".join(vc.signature for vc in self.view_changes)
        return {
            "type": self.TYPE,
            "height": self.height,
            "view": self.view,
            "leader": self.leader,
            "proposal": to_hex(self.pre_prepare.digest),
            "view_changes": to_hex(sha256(joined)),
        }

    @property
    def key(self) -> tuple[bytes, ...]:
        """Return what a leader may sign only once per (height, view)."""
        return (self.pre_prepare.digest,)

    @property
    def validator(self) -> str:
        """Return the signer (the new leader)."""
        return self.leader

    @classmethod
    def create(
        cls,
        signer: Signer,
        view_changes: Sequence[ViewChange],
        prepared: PrepareCertificate | None,
        pre_prepare: PrePrepare,
        version: int = 1,
    ) -> NewView:
        """Build and sign a NEW-VIEW."""
        changes = tuple(vc.stripped() for vc in view_changes)
        args = (pre_prepare.height, pre_prepare.view, signer.validator_id, changes, prepared)
        unsigned = cls(*args, pre_prepare, b"")
        return cls(*args, pre_prepare, signer.sign(unsigned.payload_for(version)))

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form."""
        return {
            **self.body(),
            "view_changes": [vc.to_wire() for vc in self.view_changes],
            "prepared": None if self.prepared is None else self.prepared.to_wire(),
            "pre_prepare": self.pre_prepare.to_wire(),
            "signature": to_hex(self.signature),
        }


# Evidence is gossiped like a message (R8.5); it lives in aethel.consensus.evidence.
Message: TypeAlias = Union[  # a forward reference needs typing.Union
    PrePrepare,
    Prepare,
    Commit,
    PrepareCertificate,
    CommitCertificate,
    ViewChange,
    NewView,
    "Evidence",
]
SignedMessage: TypeAlias = PrePrepare | Prepare | Commit | ViewChange | NewView


def _wire_len(message: Any) -> int:
    return len(canonical_json(message.to_wire()))
