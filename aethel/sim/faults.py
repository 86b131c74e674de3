"""Fault plans: network faults in time windows, partitions, crashes, restarts, late joiners.

Command-line grammar (``--fault``, repeatable; times as ``250ms``, ``1.5s``, ``40us`` or ns):

* ``loss:P[@S-E]``        drop each message hop with probability P (in window [S, E));
* ``dup:P[@S-E]``         deliver a second copy with probability P;
* ``reorder:P[@S-E]``     add a uniform extra delay in [0, 100 ms] with probability P;
* ``spike:P:D[@S-E]``     add a delay spike of D with probability P;
* ``partition:S-E:F``     symmetric partition: the first F (fraction, or ``a,b,c`` node list)
                          of nodes cannot talk to the rest during [S, E);
* ``oneway:S-E:F``        messages from that group to the rest are dropped (not the reverse);
* ``crash:N@T``           node N crashes at T for good; ``crash:N@T-R`` restarts at R with its
                          saved state; ``crash:N@T-R:fresh`` restarts without it;
* ``late:N@T``            node N joins at T with no state (it must catch up by state sync).

The heal time (GST) is the end of the last window, restart or join; liveness is checked after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aethel.errors import UsageError

FOREVER = 2**62
_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|ms|s)?$")
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, None: 1}


def parse_time(text: str) -> int:
    """Parse ``250ms``, ``1.5s``, ``40us`` or a plain ns count into integer ns."""
    match = _TIME.match(text.strip())
    if not match:
        raise UsageError(f"bad time {text!r}: use e.g. 250ms, 1.5s, 40us or ns")
    number, unit = match.groups()
    scale = _UNITS[unit]
    if "." in number:
        whole, frac = number.split(".")
        return int(whole) * scale + int(frac.ljust(9, "0")[:9]) * scale // 10**9
    return int(number) * scale


def _window(text: str) -> tuple[int, int]:
    if "-" not in text:
        raise UsageError(f"bad window {text!r}: use START-END")
    start, end = text.split("-", 1)
    s, e = parse_time(start), parse_time(end)
    if e <= s:
        raise UsageError(f"window {text!r} ends before it starts")
    return s, e


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"bad probability {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"probability {value} is outside [0, 1]")
    return value


@dataclass(frozen=True, slots=True)
class LinkFault:
    """A per-hop fault: loss, dup, reorder or spike, with probability, in a window."""

    kind: str
    probability: float
    start: int = 0
    end: int = FOREVER
    delay: int = 0


@dataclass(frozen=True, slots=True)
class Partition:
    """Nodes in ``group`` are cut from the rest in [start, end); ``oneway``: only group -> rest."""

    group: frozenset[int]
    start: int
    end: int
    oneway: bool = False

    def blocks(self, source: int, target: int, time: int) -> bool:
        """Return True if a message from ``source`` to ``target`` sent at ``time`` is cut."""
        if not self.start <= time < self.end:
            return False
        inside_source, inside_target = source in self.group, target in self.group
        if self.oneway:
            return inside_source and not inside_target
        return inside_source != inside_target


@dataclass(frozen=True, slots=True)
class NodeFault:
    """Crash (and maybe restart) or late join of one node."""

    kind: str
    node: int
    at: int
    restart_at: int | None = None
    saved_state: bool = True


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Every fault of one run, parsed from the command-line grammar."""

    specs: tuple[str, ...] = ()
    link: tuple[LinkFault, ...] = ()
    partitions: tuple[Partition, ...] = ()
    nodes: tuple[NodeFault, ...] = ()

    @property
    def heal_time(self) -> int:
        """Return when the last fault ends (GST); 0 if there is none that ends."""
        ends = [f.end for f in self.link if f.end < FOREVER]
        ends += [p.end for p in self.partitions]
        for fault in self.nodes:
            ends.append(fault.restart_at if fault.restart_at is not None else fault.at)
        return max(ends, default=0)

    @property
    def has_link_faults(self) -> bool:
        """Return True if any per-hop fault or partition exists."""
        return bool(self.link or self.partitions)


def _group(text: str, n: int) -> frozenset[int]:
    if "," in text or text.isdigit():
        nodes = frozenset(int(part) for part in text.split(",") if part)
        if not all(0 <= node < n for node in nodes):
            raise UsageError(f"partition group {text!r} names nodes outside 0..{n - 1}")
        return nodes
    fraction = _probability(text)
    return frozenset(range(int(fraction * n)))


def parse_faults(specs: tuple[str, ...] | list[str], n: int) -> FaultPlan:
    """Parse fault specs for a cluster of ``n`` nodes; raise UsageError naming the bad one."""
    link: list[LinkFault] = []
    partitions: list[Partition] = []
    nodes: list[NodeFault] = []
    for spec in specs:
        kind, _, rest = spec.partition(":")
        body, _, window_text = rest.partition("@")
        if kind == "crash" and window_text.endswith(":fresh"):
            window_text = window_text[: -len(":fresh")]
            body += ":fresh"
        link_kind = kind in ("loss", "dup", "reorder", "spike")
        start, end = _window(window_text) if window_text and link_kind else (0, FOREVER)
        parts = body.split(":") if body else []
        if kind in ("loss", "dup", "reorder") and len(parts) == 1:
            delay = 100_000_000 if kind == "reorder" else 0
            link.append(LinkFault(kind, _probability(parts[0]), start, end, delay))
        elif kind == "spike" and len(parts) == 2:
            link.append(LinkFault(kind, _probability(parts[0]), start, end, parse_time(parts[1])))
        elif kind in ("partition", "oneway") and len(parts) == 2:
            s, e = _window(parts[0])
            partitions.append(Partition(_group(parts[1], n), s, e, kind == "oneway"))
        elif kind in ("crash", "late") and window_text and len(parts) in (1, 2):
            node = int(parts[0]) if parts[0].isdigit() else -1
            if not 0 <= node < n:
                raise UsageError(f"fault {spec!r}: node must be in 0..{n - 1}")
            if kind == "late":
                nodes.append(NodeFault("late", node, parse_time(window_text)))
                continue
            if "-" in window_text:
                at, restart = _window(window_text)
            else:
                at, restart = parse_time(window_text), None
            fresh = len(parts) == 2 and parts[1] == "fresh"
            if len(parts) == 2 and not fresh:
                raise UsageError(f"fault {spec!r}: the only crash option is :fresh")
            nodes.append(NodeFault("crash", node, at, restart, not fresh))
        else:
            raise UsageError(f"cannot parse fault {spec!r}; see `aethel simulate --help`")
    return FaultPlan(tuple(specs), tuple(link), tuple(partitions), tuple(nodes))
