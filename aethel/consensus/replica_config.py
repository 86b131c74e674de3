"""What a replica is built from: its tunables and the node services it calls.

Owns: no rule; the rule groups read it.

:class:`ReplicaConfig` holds the tunables of one replica (the protocol constants live in the spec
modules); :class:`Services` the signature checker, block validator, executor, chain store and
block source (:mod:`aethel.consensus.interfaces`). Both are passed to
:class:`aethel.consensus.replica.Replica`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aethel.consensus.block_rules import MAX_BLOCK_EVIDENCE
from aethel.consensus.interfaces import BlockSource, BlockValidator, ChainStore, Executor
from aethel.consensus.messages import CommitCertificate, PrepareCertificate
from aethel.consensus.signing import SignatureChecker
from aethel.consensus.v2.checks import AggregateChecker
from aethel.consensus.validators import ValidatorSet

Mode = Literal["broadcast", "collector"]
MODES: tuple[Mode, ...] = ("broadcast", "collector")


@dataclass(frozen=True, slots=True)
class ReplicaConfig:
    """Tunables of one replica (all protocol constants live in the spec modules)."""

    mode: Mode = "collector"
    #: Heights ahead of the current one whose messages are buffered.
    max_heights_ahead: int = 2
    #: Views ahead of the current one whose messages are buffered.
    max_views_ahead: int = 8
    #: Most buffered messages (bounded memory under flooding, N6).
    max_buffered: int = 100_000
    #: Most buffered messages that came over one transport peer (N6), so that one peer's flood
    #: leaves the other peers' messages their places. An honest peer sends at most a proposal,
    #: two votes, two certificates and a NEW-VIEW a view, and re-sends its VIEW-CHANGE at most
    #: once a view-0 timeout while it waits (2**MAX_BACKOFF_EXPONENT times within one of this
    #: replica's longest view timeouts).
    max_buffered_per_peer: int = 256
    #: Most evidence items one block carries (at most MAX_BLOCK_EVIDENCE).
    max_block_evidence: int = MAX_BLOCK_EVIDENCE
    #: Latency samples kept for the adaptive timeout (R6.5).
    latency_window: int = 8
    #: The replica restarted without its vote journal: it votes only at heights it cannot have
    #: voted at before (the first certified height it learns of + 2).
    lost_journal: bool = False
    #: Ask the shell to sync to the peers' latest certified height on start (a node joining
    #: late or restarted without its state).
    sync_on_start: bool = False
    #: Least time between a commit and the next proposal (0: propose at once).
    block_interval_ns: int = 0
    #: The genesis's ``protocol_v2_height`` (V2.1): the first height of protocol version 2.
    #: None: the validator set's ``first_height`` if it is a version-2 set, else version 1 at
    #: every height.
    protocol_v2_height: int | None = None


@dataclass(frozen=True, slots=True)
class Services:
    """The node services the core calls (see :mod:`aethel.consensus.interfaces`).

    ``certificates`` checks a whole certificate (defaults to
    :func:`aethel.consensus.votes.check_certificate` over ``checker``); a simulator passes one
    that memoizes the verdict on identical certificates and charges each node the CPU time.
    """

    checker: SignatureChecker
    validator: BlockValidator
    executor: Executor
    store: ChainStore
    source: BlockSource
    certificates: Callable[[PrepareCertificate | CommitCertificate, ValidatorSet], str] | None = (
        None
    )
    #: The BLS operations of protocol version 2 (default: computed directly,
    #: :data:`aethel.consensus.v2.checks.DIRECT`); a simulator memoizes them and charges CPU.
    aggregates: AggregateChecker | None = None
