"""The fixed list of capabilities an implementation under test may declare.

An implementation declares the capabilities it implements (in ``hello`` over the subprocess
protocol, or in the ``capabilities`` attribute of a Python adapter). A case that needs a capability
the implementation does not declare is skipped with that reason, never failed; a run that skipped a
capability is reported as such and never passes as a fully conformant run.

Versioning (conformance/PROTOCOL.md, "Versions and capabilities"; enforced by
:mod:`conformance.protocol.versions`): adding a new capability to this list is compatible and
keeps the protocol version, because capabilities are negotiated in ``hello`` and an implementation
that does not declare one is never sent its commands. Changing the commands of a capability
already in the list, or removing one, needs a new protocol version. An implementation that
declares a name outside this list is refused with an error naming it (it may be newer than this
suite).

Apart from its capabilities, an implementation may declare the versions of the consensus protocol
it speaks (``consensus_versions`` in ``hello``, or the attribute of a Python adapter; absent means
version 1 only, spec/consensus-v2.md): cases marked ``@pytest.mark.consensus_version(2)`` run only
for an implementation that declares version 2, and are skipped with that reason otherwise.
"""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """One group of commands an implementation may implement."""

    ENCODING = "encoding"
    LIST_HASH = "list-hash"
    STATE_TREE = "state-tree"
    STATE_STORE = "state-store"
    SYNC = "sync"
    VERIFIER = "verifier"
    MEMPOOL = "mempool"
    ECONOMICS = "economics"
    REPLICA = "replica"
    MONITORING = "monitoring"
    GHOST = "ghost"
    HISTORY = "history"
    CATCH_UP = "catch-up"
    VOTE_JOURNAL = "vote-journal"
    LOST_JOURNAL = "lost-journal"
    LOST_JOURNAL_ON_DISK = "lost-journal-on-disk"
    CONSENSUS_V2 = "consensus-v2"
    LIVE_ACCURACY = "live-accuracy"


#: What each capability covers (printed by ``aethel-conformance capabilities``).
DESCRIPTIONS: dict[Capability, str] = {
    Capability.ENCODING: "canonical JSON, object hashes, domain-separated Ed25519 (E1-E7)",
    Capability.LIST_HASH: "RFC 6962 list hashing with inclusion and consistency proofs (E10, E11)",
    Capability.STATE_TREE: "sparse Merkle state tree, batch updates, proofs, node cache (E8, E9)",
    Capability.STATE_STORE: "persistent versioned state and its transitions (R3, R4, R5.4, R7)",
    Capability.SYNC: "snapshot manifests and verified chunked state sync (R3.1, R3.5, N5)",
    Capability.VERIFIER: "proof verification with the solver, effort, difficulty (R1, R6.4)",
    Capability.MEMPOOL: "admission, ordering and conflict detection of proofs (R5, R6.3, R8.2)",
    Capability.ECONOMICS: "rewards, reward split, slashing, emission, minimum stake (R1, R4)",
    Capability.REPLICA: "sans-IO consensus replica and its pure rules (R2, R6.5, R7)",
    Capability.MONITORING: "per-height metrics, rewards, health view of a replica; alerts (R8)",
    Capability.GHOST: "ghost identities: one-time keys, no secret and no link in any output (R5.3)",
    Capability.HISTORY: "verify presented histories, choose between conflicting ones (R3.3, R7.4)",
    Capability.CATCH_UP: "a replica catches up over a certified chain across slashing (R2.3, R3.1)",
    Capability.VOTE_JOURNAL: "a replica whose vote journal survives SIGKILL and restart (R2.4)",
    Capability.LOST_JOURNAL: "a replica restarted without its journal: votes again at h + 2 (R2.4)",
    Capability.LOST_JOURNAL_ON_DISK: (
        "the same validator keeping its new journal on disk: a further crash leaves it as careful "
        "(R2.4)"
    ),
    Capability.CONSENSUS_V2: (
        "protocol version 2's pure rules: BLS keys, signatures, proofs of possession, aggregate "
        "certificates, vote aggregation, the collector (V2.3-V2.10)"
    ),
    Capability.LIVE_ACCURACY: (
        "a replica's live verification accuracy: each validator's window of judged verdicts and "
        "the open alerts (R8.3, R8.6)"
    ),
}

ALL: tuple[str, ...] = tuple(c.value for c in Capability)

#: The versions of the consensus protocol (spec/consensus-v2.md) this suite knows.
CONSENSUS_VERSIONS: tuple[int, ...] = (1, 2)


def parse_capabilities(names: object) -> frozenset[str]:
    """Return the declared capabilities; raise ValueError naming any unknown one."""
    if not isinstance(names, list | tuple | set | frozenset):
        raise ValueError(f"capabilities must be a list of names, got {type(names).__name__}")
    unknown = sorted(str(n) for n in names if n not in ALL)
    if unknown:
        raise ValueError(
            f"unknown capabilities {unknown}: this suite knows {', '.join(ALL)}. "
            "Declare only capabilities from that list (a capability newer than this suite "
            "needs a newer aethel-conformance)"
        )
    return frozenset(str(n) for n in names)


def parse_consensus_versions(value: object) -> frozenset[int]:
    """Return the consensus protocol versions an implementation declares (V2.1, V2.2).

    ``None`` (the member absent from ``hello``, or no ``consensus_versions`` attribute) means
    version 1 only. Otherwise a non-empty list of distinct versions this suite knows; raise
    ValueError naming what is wrong.
    """
    if value is None:
        return frozenset({1})
    if not isinstance(value, list | tuple | set | frozenset) or not value:
        raise ValueError(f"consensus_versions must be a non-empty list, got {value!r:.100}")
    items = list(value)
    unknown = [v for v in items if type(v) is not int or v not in CONSENSUS_VERSIONS]
    if unknown:
        known = ", ".join(map(str, CONSENSUS_VERSIONS))
        raise ValueError(
            f"unknown consensus protocol versions {unknown!r:.100}: this suite knows {known}"
        )
    if len(set(items)) != len(items):
        raise ValueError(f"consensus_versions repeats a version: {items!r}")
    return frozenset(items)


def declared_consensus_versions(implementation: object) -> frozenset[int]:
    """Return the consensus protocol versions ``implementation`` speaks (its optional
    ``consensus_versions`` attribute; absent means version 1 only)."""
    return parse_consensus_versions(getattr(implementation, "consensus_versions", None))
