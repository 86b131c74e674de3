"""Presented histories: what a peer offers as the chain since a trusted state, and the verdicts.

A **history** is an ordered list of links, one per height after a trusted **anchor** (the genesis
or a state the node already holds). A link carries the block of its height, the commit
certificate that finalized it (COMMIT votes for the block digest and the post-state root) and,
optionally, the **changes** the presenter claims the block made to the state (key -> new value,
``null`` for a deleted key): the state a node would adopt. The verifier
(:mod:`aethel.consensus.history_verifier`) re-checks every link from the anchor; nothing here
trusts the presenter.

Spec: R3.3 and P12 (conflicting states resolve to the verifiable lineage), R7.4 and P29 (a
history with a transition that breaks the books or a height without a valid commit certificate is
rejected). The wire form is canonical JSON (E1): ``{"links": [{"block", "certificate",
"changes"}...]}`` with blocks and certificates in their consensus wire forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.wire import parse_block, parse_commit_certificate
from aethel.encoding import HASH_SIZE, JSONValue, canonical_json
from aethel.errors import EncodingError, ProtocolViolation, UsageError
from aethel.state.transitions import Genesis, compute_genesis

if TYPE_CHECKING:
    from aethel.consensus.interfaces import ChainStore
    from aethel.consensus.ledger import StateRepository


#: Claimed state changes: key -> new value, or None for a deleted key.
Changes = Mapping[str, JSONValue | None]


@dataclass(frozen=True, slots=True)
class HistoryLink:
    """One height of a presented history: block, its commit certificate, claimed changes."""

    block: ProofBlock
    certificate: CommitCertificate | None
    changes: Changes | None = field(default=None, compare=False)

    @property
    def height(self) -> int:
        """Return the height the block claims."""
        return self.block.height

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form."""
        return {
            "block": self.block.to_wire(),
            "certificate": None if self.certificate is None else self.certificate.to_wire(),
            "changes": None if self.changes is None else dict(self.changes),
        }


@dataclass(frozen=True, slots=True)
class History:
    """A presented history: links in the order the presenter gave them (R3.3, R7.4)."""

    links: tuple[HistoryLink, ...]

    def __len__(self) -> int:
        return len(self.links)

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form ``{"links": [...]}``."""
        return {"links": [link.to_wire() for link in self.links]}

    def replace(self, index: int, link: HistoryLink) -> History:
        """Return a copy with link ``index`` replaced."""
        links = list(self.links)
        links[index] = link
        return History(tuple(links))

    def prefix(self, count: int) -> History:
        """Return the first ``count`` links."""
        return History(self.links[:count])


@dataclass(frozen=True, slots=True)
class HistoryAnchor:
    """The state a node already trusts, from which a history is verified.

    ``entries`` is the whole state (key -> value) at ``height``, whose committed block has
    ``digest`` (32 zero bytes before height 1). ``certifiers`` is the validator set that
    certified ``height`` (its stakes before that height's transition); it checks the certificate
    of ``height`` that the next block carries. The genesis needs none: block 1 carries no
    certificate.
    """

    height: int
    digest: bytes
    entries: Mapping[str, JSONValue] = field(repr=False)
    certifiers: ValidatorSet | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if type(self.height) is not int or self.height < 0:
            raise UsageError(f"an anchor height is an int >= 0, got {self.height!r}")
        if not isinstance(self.digest, bytes) or len(self.digest) != HASH_SIZE:
            raise UsageError("an anchor digest is 32 bytes")
        if self.height > 0 and self.certifiers is None:
            raise UsageError("an anchor above the genesis needs the set that certified it")

    @classmethod
    def genesis(cls, genesis: Genesis) -> HistoryAnchor:
        """Return the anchor of the genesis state (height 0)."""
        outcome = compute_genesis(genesis)
        return cls(0, GENESIS_PARENT, dict(outcome.writes))

    @classmethod
    def checkpoint(
        cls,
        height: int,
        digest: bytes,
        entries: Mapping[str, JSONValue],
        certifiers: ValidatorSet,
    ) -> HistoryAnchor:
        """Return the anchor of a committed state the node holds (for example after a sync)."""
        return cls(height, digest, dict(entries), certifiers)


class HistoryRejected(ProtocolViolation):
    """A presented history breaks ``rule_id`` at ``height``; nothing of it was adopted."""

    def __init__(self, rule_id: str, height: int, message: str) -> None:
        self.height = height
        super().__init__(rule_id, f"height {height}: {message}")
        self.detail = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.rule_id, self.height, self.detail))


@dataclass(frozen=True, slots=True)
class VerifiedHeight:
    """One height of a verified history: what the certificate vouches for, re-derived."""

    height: int
    digest: bytes
    post_root: bytes
    certificate: CommitCertificate
    #: The validator set that certified the height (stakes before its transition).
    validators: ValidatorSet = field(repr=False)


@dataclass(frozen=True, slots=True)
class VerifiedHistory:
    """A history whose every link verified from ``anchor`` (R3.3).

    ``repository`` holds the re-executed states (a scratch store, never the node's own).
    """

    anchor: HistoryAnchor
    anchor_root: bytes
    heights: tuple[VerifiedHeight, ...]
    repository: StateRepository = field(repr=False, compare=False)

    @property
    def tip_height(self) -> int:
        """Return the last verified height (the anchor's when the history is empty)."""
        return self.heights[-1].height if self.heights else self.anchor.height

    @property
    def tip_root(self) -> bytes:
        """Return the state root at the tip."""
        return self.heights[-1].post_root if self.heights else self.anchor_root

    def at(self, height: int) -> VerifiedHeight | None:
        """Return the verified height ``height``, if the history holds it."""
        index = height - self.anchor.height - 1
        return self.heights[index] if 0 <= index < len(self.heights) else None


@dataclass(frozen=True, slots=True)
class HistoryVerdict:
    """The answer to "does this history verify?": accepted with its tip, or where it broke."""

    accepted: bool
    #: Accepted: the tip height. Rejected: the first height that does not verify.
    height: int
    #: Accepted: the state root at the tip; rejected: None.
    root: bytes | None
    rule_id: str = ""
    reason: str = ""
    verified: VerifiedHistory | None = field(default=None, repr=False, compare=False)


def parse_changes(value: object) -> dict[str, JSONValue | None]:
    """Parse claimed state changes ``{key: value | null}`` strictly (E1-E4, E12)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise EncodingError("E12", "changes are an object of state keys")
    try:
        canonical_json(value)
    except EncodingError as exc:
        raise EncodingError(exc.rule_id, f"changes have no canonical form: {exc.detail}") from None
    return dict(value)


def parse_history(value: object) -> History:
    """Parse the canonical JSON form of a history strictly (E12); nothing is verified yet."""
    if (
        not isinstance(value, dict)
        or set(value) != {"links"}
        or not isinstance(value["links"], list)
    ):
        raise EncodingError("E12", "a history is an object with exactly a list of links")
    links = []
    for item in value["links"]:
        if not isinstance(item, dict) or set(item) != {"block", "certificate", "changes"}:
            raise EncodingError("E12", "a link has exactly block, certificate and changes")
        certificate = item["certificate"]
        changes = item["changes"]
        links.append(
            HistoryLink(
                parse_block(item["block"]),
                None if certificate is None else parse_commit_certificate(certificate),
                None if changes is None else parse_changes(changes),
            )
        )
    return History(tuple(links))


def compute_changes(
    before: Mapping[str, JSONValue], after: Mapping[str, JSONValue]
) -> dict[str, JSONValue | None]:
    """Return the changes that turn state ``before`` into ``after`` (None: a deleted key)."""
    changes: dict[str, JSONValue | None] = {
        key: value for key, value in after.items() if before.get(key, _MISSING) != value
    }
    changes.update({key: None for key in before if key not in after})
    return dict(sorted(changes.items()))


_MISSING: Any = object()


def get_history(
    store: ChainStore,
    first: int,
    last: int,
    repository: StateRepository | None = None,
    genesis_root: bytes | None = None,
) -> History:
    """Return heights ``first``..``last`` of a node's committed chain as a presented history.

    With ``repository`` (where the node's states live) each link also carries the changes its
    block made, read from the committed states before and after it; from height 1 that needs
    ``genesis_root``.
    """
    links: list[HistoryLink] = []
    previous: Mapping[str, JSONValue] | None = None
    for height in range(first, last + 1):
        block, certificate = store.get_block(height), store.get_certificate(height)
        if block is None or certificate is None:
            raise UsageError(f"the store holds no committed block and certificate at {height}")
        changes = None
        if repository is not None:
            if previous is None:
                parent = genesis_root if block.last_commit is None else block.last_commit.post_root
                if parent is None:
                    raise UsageError("the changes of height 1 need the genesis root")
                previous = repository.get(parent).leaves()
            after = repository.get(certificate.post_root).leaves()
            changes = compute_changes(previous, after)
            previous = after
        links.append(HistoryLink(block, certificate, changes))
    return History(tuple(links))
