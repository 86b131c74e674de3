"""Counters of the work a replica did (T22.2e ``get_performance_stats``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from aethel.consensus.messages import Message


@dataclass(slots=True)
class ReplicaStats:
    """Plain counters; every one is incremented where the work happens."""

    messages: dict[str, int] = field(default_factory=dict)
    signatures_checked: int = 0
    certificates_checked: int = 0
    blocks_validated: int = 0
    proofs_checked: int = 0
    proposals: int = 0
    votes_sent: int = 0
    commits: int = 0
    timeouts: int = 0
    view_changes: int = 0
    #: VIEW-CHANGEs re-sent while waiting for a view to be established (R2.6).
    view_change_resends: int = 0
    new_views: int = 0
    evidence_found: int = 0
    rejected: int = 0
    stale: int = 0
    dropped: int = 0
    syncs: int = 0
    batches: int = 0
    batched_messages: int = 0

    def count_message(self, message: Message) -> None:
        """Count one received message by type."""
        kind = message.TYPE
        self.messages[kind] = self.messages.get(kind, 0) + 1

    def as_dict(self, **extra: object) -> dict[str, object]:
        """Return the counters and ``extra`` as one plain dict."""
        values: dict[str, object] = asdict(self)
        values["messages_received"] = sum(self.messages.values())
        values.update(extra)
        return values
