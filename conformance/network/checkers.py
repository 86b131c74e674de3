"""Checkers on a recorded run: each reads the history and the final state and gives a verdict.

Every verdict names the rules it judges. The consensus checkers:

* ``agreement`` (R2.4, P8): one block digest and one state root per height across every node
  ever asked (status polls, block reads, verified balance reads, final headers and blocks);
* ``validity`` (R2.3, R7.5, R1.1, R3.2, R7.4): the committed chain, re-verified from the
  genesis by :class:`aethel.consensus.history_verifier.HistoryVerifier`: block signatures,
  parent links, commit certificates (q(W) distinct valid signatures), every proof re-verified
  with Z3, every block re-executed to its certified root;
* ``conservation`` (R3.6, R5.2, R4.7): the supply books of the re-executed chain at every height
  (balances + stakes = genesis + minted - burned, minted within the emission bound) and each
  node's own books (``GET /supply``) equal to the chain's at its height;
* ``durability`` (R5.4): every transfer a node acknowledged as committed at a height is in the
  final chain at that height; no node comes back from a crash (SIGKILL, not a wipe) below the
  height it reported before; every height up to the lowest final height is held by some node;
* ``partition`` (R7.6, P31): while a side without q(W) is cut off, none of its nodes passes the
  highest height any node held when the cut began, plus the one height that may have been
  certified by votes sent before the cut;
* ``liveness`` (R2.5, R3.4, P11): after the last heal, every node reaches a height above every
  height seen at the heal within the run's bound, derived from the protocol's view timeouts
  (R2.6, R6.5) and the run's schedule (views of that height whose leaders were barred by a wipe,
  R2.4), plus a stated slack (:mod:`conformance.network.bound`), unless ``--liveness-bound``
  overrides it; the verdict records the bound and its derivation;
* ``accusation`` (R4.6, R4.2): no node is accused (evidence in a committed block or reported by
  a node) unless the run made it Byzantine (this harness makes none);
* ``reads`` (R3.2, E9): every balance answer verifies against its certificate and proofs.

And the node contract's (NODE.md): ``start``, ``api``, ``wire`` (N6), ``restart`` (R5.4),
``stop``. A checker that cannot judge (the run stopped before it could) says ``unknown``.

Two kinds of verdict, told apart by :attr:`Verdict.timing` (a replay compares them differently,
:mod:`conformance.network.replay`):

* **what the nodes said**: agreement, validity, conservation, durability, partition, accusation,
  reads, contract-api and contract-wire read the answers, acknowledgements, blocks and frames
  the nodes produced. A failure is a wrong thing a node said or wrote; the timing of the
  processes decides at most whether a poll saw it, never whether it was wrong.
* **deadlines** (``timing``): liveness (every node past the heal's height within the bound) and
  contract-first-commit (height 1 within the start-up timeout) always; contract-start and
  contract-restart when a node was not ready within the start-up timeout (not when it exited);
  contract-stop when a node only overran the grace after SIGTERM. How fast the processes ran on
  the machine decides these, so the same fault schedule can pass them once and miss them once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aethel.consensus.history import History as ChainHistory
from aethel.consensus.history import HistoryAnchor, HistoryLink
from aethel.consensus.history_verifier import HistoryVerifier
from aethel.consensus.wire import parse_block, parse_commit_certificate
from aethel.errors import AethelError
from aethel.proofs.model import transfer_from_json
from aethel.state.audit import compute_supply_audit
from conformance.network.nemesis import lacks_quorum
from conformance.network.run import RunRecord, liveness_bound

PASS, FAIL, UNKNOWN, SKIP = "pass", "fail", "unknown", "skip"


@dataclass
class Verdict:
    """One checker's answer."""

    checker: str
    rules: tuple[str, ...]
    status: str
    message: str
    details: list[str] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)
    #: The verdict judges a deadline: how fast the processes ran decides it (module docstring).
    timing: bool = False

    @property
    def failed(self) -> bool:
        return self.status == FAIL


def _verdict(
    name: str, rules: tuple[str, ...], problems: list[str], ok: str, **extra: Any
) -> Verdict:
    if problems:
        head = (
            problems[0]
            if len(problems) == 1
            else f"{len(problems)} violations; first: {problems[0]}"
        )
        return Verdict(name, rules, FAIL, head, problems[:50], **extra)
    return Verdict(name, rules, PASS, ok, **extra)


# ---------------------------------------------------------------------- consensus checkers


def check_agreement(record: RunRecord) -> Verdict:
    """R2.4, P8: one digest and one root per height, whoever was asked, whenever."""
    digests: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    roots: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def see(height: Any, digest: Any, root: Any, who: str) -> None:
        if type(height) is not int or height < 1:
            return
        if isinstance(digest, str):
            digests[height][digest].add(who)
        if isinstance(root, str):
            roots[height][root].add(who)

    for op in record.history.ops:
        value = op.value
        if op.type != "ok" or op.node is None:
            continue
        if op.f in ("status", "block"):
            see(value.get("height"), value.get("digest"), value.get("root"), op.node)
        elif op.f == "balance":
            see(value.get("height"), None, value.get("root"), op.node)
    for node, held in record.final.headers.items():
        for height, (digest, root) in held.items():
            see(height, digest, root, node)
    for height, block in record.final.blocks.items():
        see(height, block.get("digest"), block.get("root"), str(block.get("from")))
    problems = []
    for height in sorted(set(digests) | set(roots)):
        for what, table in (("blocks", digests), ("roots", roots)):
            seen = table.get(height, {})
            if len(seen) > 1:
                described = "; ".join(
                    f"{value[:16]} at {', '.join(sorted(nodes))}" for value, nodes in seen.items()
                )
                problems.append(f"height {height}: {len(seen)} {what}: {described}")
    heights = len(set(digests) | set(roots))
    return _verdict(
        "agreement",
        ("R2.4", "P8"),
        problems,
        f"one block and one root at each of {heights} heights across every node asked",
        measurements={"heights_compared": heights},
    )


@dataclass
class ChainCheck:
    """The final chain re-verified from the genesis (shared by validity and conservation)."""

    verified_to: int = 0
    failure: str | None = None
    rule: str = ""
    gap: int | None = None
    verified: Any = None


def verify_chain(record: RunRecord) -> ChainCheck:
    """Re-verify the contiguous chain held by the nodes from height 1 (see the docstring)."""
    result = ChainCheck()
    links = []
    height = 1
    blocks = record.final.blocks
    while height in blocks:
        item = blocks[height]
        try:
            block = parse_block(item.get("block"))
            certificate = parse_commit_certificate(item.get("certificate"))
        except AethelError as exc:
            result.failure = f"height {height} from {item.get('from')}: {exc}"
            result.rule = getattr(exc, "rule_id", "E12")
            return result
        if block.digest.hex() != item.get("digest") or certificate.post_root.hex() != item.get(
            "root"
        ):
            result.failure = (
                f"height {height} from {item.get('from')}: the answer's digest/root are not "
                "its block's and certificate's"
            )
            result.rule = "R3.2"
            return result
        links.append(HistoryLink(block, certificate))
        height += 1
    top = max(blocks, default=0)
    if height <= top:
        result.gap = height
    chain = record.setup.chain
    verifier = HistoryVerifier(chain.validators)
    verdict = verifier.check(HistoryAnchor.genesis(chain.genesis), ChainHistory(tuple(links)))
    result.verified = verdict.verified
    if not verdict.accepted:
        result.failure = f"height {verdict.height}: {verdict.reason}"
        result.rule = verdict.rule_id
        result.verified_to = verdict.height - 1
    else:
        result.verified_to = verdict.height
    return result


def check_validity(record: RunRecord, chain: ChainCheck) -> Verdict:
    """R2.3, R7.5, R1.1, R3.2, R7.4: the committed chain verifies link by link."""
    rules = ("R2.3", "R7.5", "R1.1", "R3.2", "R7.4")
    if chain.failure:
        return Verdict(
            "validity",
            rules,
            FAIL,
            f"the committed chain breaks {chain.rule}: {chain.failure}",
            measurements={"heights_verified": chain.verified_to},
        )
    if chain.verified_to == 0:
        return Verdict("validity", rules, UNKNOWN, "no committed block was collected")
    transfers = sum(
        len(item["block"].get("transactions", []))
        for h, item in record.final.blocks.items()
        if h <= chain.verified_to and isinstance(item.get("block"), dict)
    )
    return Verdict(
        "validity",
        rules,
        PASS,
        f"heights 1..{chain.verified_to} verify: signatures, certificates (q(W)), "
        f"{transfers} transfers with their proofs re-verified by Z3, every root re-executed",
        measurements={"heights_verified": chain.verified_to, "transfers_verified": transfers},
    )


def check_conservation(record: RunRecord, chain: ChainCheck) -> Verdict:
    """R3.6, R5.2, R4.7: the books of the chain and of every node."""
    rules = ("R3.6", "R5.2", "R4.7")
    verified = chain.verified
    if verified is None or not verified.heights:
        return Verdict("conservation", rules, UNKNOWN, "no verified chain to count")
    problems = []
    roots = {h.height: h.post_root.hex() for h in verified.heights}
    for item in verified.heights:
        audit = compute_supply_audit(verified.repository.tree(item.post_root), item.height)
        if not audit.is_conserved:
            problems.append(
                f"height {item.height}: balances + stakes = {audit.total_supply}, books say "
                f"{audit.genesis} + {audit.minted} - {audit.burned}"
            )
        if not audit.is_within_emission:
            problems.append(f"height {item.height}: minted {audit.minted} above the emission bound")
    for node, supply in record.final.supply.items():
        if supply is None:
            continue
        height = supply.get("height")
        if supply.get("balanced") is not True:
            problems.append(f"{node} reports unbalanced books at height {height}: {supply}")
        if type(height) is int and height in roots and supply.get("root") != roots[height]:
            problems.append(f"{node}'s books at height {height} are of another root")
    return _verdict(
        "conservation",
        rules,
        problems,
        f"books balance at all {len(verified.heights)} verified heights and at every node",
    )


def _status_ops(record: RunRecord, node: str) -> list[Any]:
    return [o for o in record.history.ops if o.f == "status" and o.type == "ok" and o.node == node]


def check_durability(record: RunRecord, chain: ChainCheck) -> Verdict:
    """R5.4: acknowledged commits are in the final chain; no committed height is lost."""
    problems = []
    ids_at: dict[int, set[str]] = {}
    for height, item in record.final.blocks.items():
        found = set()
        for tx in (item.get("block") or {}).get("transactions", []):
            try:
                found.add(transfer_from_json(tx).transaction_id.hex())
            except AethelError:
                continue
        ids_at[height] = found
    acknowledged = [o for o in record.history.select("confirm", "ok")]
    top = max(ids_at, default=0)
    for op in acknowledged:
        tid, height = op.value["id"], op.value["height"]
        if height > top:
            problems.append(
                f"{op.node} acknowledged transfer {tid[:16]} committed at height {height}, "
                f"above every height the nodes hold at the end ({top})"
            )
        elif tid not in ids_at.get(height, set()):
            problems.append(
                f"{op.node} acknowledged transfer {tid[:16]} committed at height {height} "
                f"(t={op.time:.1f} s); the final chain does not hold it there"
            )
    # No committed height lost across a crash (a wipe loses its data on purpose: heights seen
    # before a node's latest wipe are not held against it).
    for applied in record.applied:
        if applied.fault.kind != "kill" or applied.ended is None:
            continue
        node = applied.fault.targets[0]
        wiped = [
            a.ended
            for a in record.applied
            if a.fault.kind == "wipe"
            and a.fault.targets[0] == node
            and a.ended is not None
            and a.ended <= applied.started
        ]
        since = max(wiped, default=float("-inf"))
        ops = _status_ops(record, node)
        before = [
            o.value["height"]
            for o in ops
            if o.value["invoked"] >= since and o.time <= applied.started
        ]
        # From the restart's readiness on: the harness reads the node's status right then, before
        # a fast catch-up can hide what its store lost (mutant ack-before-durable escaped at
        # 952cb74 when the first read came after the node had synced the lost heights again).
        ready = [t for t in record.restarts.get(node, []) if applied.started <= t <= applied.ended]
        after = [o for o in ops if o.value["invoked"] >= min(ready, default=applied.ended)]
        if before and after and after[0].value["height"] < max(before):
            problems.append(
                f"{node} reported height {max(before)} before its SIGKILL at "
                f"t={applied.started:.1f} s and height {after[0].value['height']} after its "
                f"restart (t={after[0].time:.1f} s): committed heights lost"
            )
    finals = [
        int(s["height"])
        for s in record.final.statuses.values()
        if isinstance(s, dict) and type(s.get("height")) is int
    ]
    if chain.gap is not None and finals and chain.gap <= min(finals):
        problems.append(f"height {chain.gap} is held by no node at the end")
    return _verdict(
        "durability",
        ("R5.4",),
        problems,
        f"all {len(acknowledged)} acknowledged commits are in the final chain; no node lost a "
        "committed height across its crashes",
        measurements={"acknowledged_commits": len(acknowledged)},
    )


def check_partition(record: RunRecord) -> Verdict:
    """R7.6, P31: a side without q(W) commits nothing while it is cut off."""
    problems = []
    checked = 0
    total = len(record.ids)
    for applied in record.applied:
        fault = applied.fault
        if fault.kind not in ("partition-halves", "partition-majority") or applied.ended is None:
            continue
        before = [
            o.value["height"]
            for o in record.history.select("status", "ok")
            if o.time <= applied.started
        ]
        bound = max([*applied.cut_heights.values(), *before, 0]) + 1
        for side in fault.sides:
            if not lacks_quorum(side, total):
                continue
            checked += 1
            for node in side:
                for op in _status_ops(record, node):
                    inside = applied.started <= op.value["invoked"] and op.time <= applied.ended
                    if inside and op.value["height"] > bound:
                        problems.append(
                            f"{node} committed height {op.value['height']} at "
                            f"t={op.time:.1f} s while cut off in side {list(side)} (no "
                            f"q(W)) since t={applied.started:.1f} s; at most {bound} could "
                            "be certified by votes sent before the cut"
                        )
                        break
    if checked == 0:
        return Verdict("partition", ("R7.6", "P31"), SKIP, "no partition left a side without q(W)")
    return _verdict(
        "partition",
        ("R7.6", "P31"),
        problems,
        f"{checked} side(s) without q(W) committed nothing while cut off",
    )


def check_liveness(record: RunRecord) -> Verdict:
    """R2.5, R3.4, P11: after the last heal every node passes the heal's height in time.

    The bound is the run's (:mod:`conformance.network.bound`): derived from the view timeouts
    (R2.6, R6.5) and the run's schedule, the views of the heal height whose leaders cannot lead
    (barred after a wipe, R2.4's lost-journal rule) timed out one after the other from the view
    the cluster can be in at the heal, plus a stated slack for one leading view and two state
    syncs (R3.4, R3.5); or ``--liveness-bound`` seconds (an override). The verdict's message
    says which bound it used and why; ``skip`` when the validators that may be barred leave the
    others short of q(W), where the spec promises no commit.
    """
    rules = ("R2.5", "R3.4", "P11")
    if record.heal_time is None:
        return Verdict(
            "liveness", rules, UNKNOWN, f"the run stopped early: {record.aborted}", timing=True
        )
    chosen = record.liveness or liveness_bound(record, record.config.liveness_bound)
    bound = chosen.seconds
    used = f"{chosen.source} bound: {chosen.why}"
    if bound is None:
        return Verdict("liveness", rules, SKIP, f"no bound: {used}", list(chosen.notes))
    target = record.heal_height
    problems = []
    recovered: list[float] = []
    for node in record.ids:
        reached = [
            o
            for o in _status_ops(record, node)
            if o.time >= record.heal_time and o.value["height"] >= target
        ]
        if not reached or reached[0].time - record.heal_time > bound:
            last = [o.value["height"] for o in _status_ops(record, node)]
            problems.append(
                f"{node} did not reach height {target} within {bound:g} s of the last heal "
                f"(t={record.heal_time:.1f} s); last seen at {last[-1] if last else 'none'}"
            )
        else:
            recovered.append(reached[0].time - record.heal_time)
    worst = max(recovered, default=0.0)
    verdict = _verdict(
        "liveness",
        rules,
        problems,
        f"every node passed height {target - 1} within {worst:.1f} s of the last heal "
        f"(bound {bound:g} s)",
        measurements={"recovery_s": round(worst, 3), "bound_s": bound},
        timing=True,
    )
    verdict.message += f"; {used}"
    verdict.details += [f"bound: {used}", *chosen.notes]
    return verdict


def check_accusation(record: RunRecord, byzantine: frozenset[str] = frozenset()) -> Verdict:
    """R4.6, R4.2: nobody honest is accused, in a committed block or by a node."""
    problems = []
    for height, item in sorted(record.final.blocks.items()):
        for evidence in (item.get("block") or {}).get("evidence", []):
            offender = evidence.get("offender") if isinstance(evidence, dict) else None
            if offender not in byzantine:
                offence = evidence.get("offence") if isinstance(evidence, dict) else "?"
                problems.append(
                    f"block {height} carries {offence} evidence against {offender}, which the "
                    "run did not make Byzantine (the chain verified it: it is valid)"
                )
    for node, found in record.final.evidence.items():
        for item in found or []:
            offender = item.get("offender") if isinstance(item, dict) else None
            if offender not in byzantine:
                problems.append(f"{node} found evidence against {offender}: {item}")
    return _verdict(
        "accusation",
        ("R4.6", "R4.2"),
        problems,
        "no node accused: no evidence in the chain, none found by any node",
    )


def check_reads(record: RunRecord) -> Verdict:
    """R3.2, E9: every balance a node answered verifies against its certified root."""
    bad = [o for o in record.history.select("balance", "fail") if "invalid" in o.value]
    good = record.history.select("balance", "ok")
    problems = [
        f"{o.node} answered a balance of {o.value['account'][:16]} at height "
        f"{o.value.get('height')} (t={o.time:.1f} s) that does not verify: {o.value['invalid']}"
        for o in bad
    ]
    return _verdict(
        "reads",
        ("R3.2", "E9"),
        problems,
        f"all {len(good)} balance answers verified against their certified roots",
    )


# ---------------------------------------------------------------------- the node contract


def check_contract(record: RunRecord) -> list[Verdict]:
    """NODE.md: start, API, wire, restart and stop."""
    kind, node, reason = record.abort_kind, record.abort_node, record.aborted or ""
    # "never ready" (not ready within the start-up timeout) is a deadline; "crashed on start"
    # (the process exited) is not (cluster.NodeFailure's kinds).
    late = reason.startswith("never ready")
    verdicts = []
    start_problems = [f"{node}: {reason}"] if kind == "start" else []
    ready = max(record.ready_s.values(), default=0.0)
    verdicts.append(
        _verdict(
            "contract-start",
            ("NODE.start",),
            start_problems,
            f"every node ready within {ready:.1f} s",
            timing=bool(start_problems) and late,
        )
    )
    if kind == "liveness":
        verdicts.append(Verdict("contract-first-commit", ("R2.5",), FAIL, reason, timing=True))
    api = [f"{v.node} at t={v.time:.1f} s: {v.detail}" for v in record.api_violations]
    verdicts.append(
        _verdict("contract-api", ("NODE.api",), api, "every answer had the contract's shape")
    )
    wire = [f"{v.node} at t={v.time:.1f} s: {v.kind}: {v.detail}" for v in record.wire_violations]
    verdicts.append(
        _verdict(
            "contract-wire",
            ("NODE.wire", "N6"),
            wire,
            f"{record.proxy_stats.get('frames', 0)} frames within the wire's bounds",
        )
    )
    restart = [f"{node}: {reason}"] if kind == "restart" else []
    restarts = sum(len(v) for v in record.restarts.values())
    verdicts.append(
        _verdict(
            "contract-restart",
            ("NODE.start", "R5.4"),
            restart,
            f"{restarts} restart(s), each ready again",
            timing=bool(restart) and late,
        )
    )
    stop = []
    overran = 0
    # A run that never started judges no shutdown (only what was left behind).
    judged = {} if kind == "start" else record.exits
    for node_id, exits in judged.items():
        final = exits[-1] if exits else None
        if final is not None and final.get("how") == "SIGTERM" and final.get("code") != 0:
            stop.append(f"{node_id} exited with {final.get('code')} after SIGTERM (expected 0)")
        elif final is not None and final.get("how", "").startswith("did not exit"):
            stop.append(f"{node_id} {final['how']}")
            overran += 1
    if record.leftover:
        stop.append(f"processes left behind: {record.leftover}")
    verdicts.append(
        _verdict(
            "contract-stop",
            ("NODE.stop",),
            stop,
            "every node exited 0 on SIGTERM within the grace; no process left behind",
            timing=bool(stop) and overran == len(stop),
        )
    )
    return verdicts


def check_run(record: RunRecord) -> list[Verdict]:
    """Every checker's verdict on ``record``."""
    verdicts = check_contract(record)
    if record.abort_kind == "start":
        return verdicts
    chain = verify_chain(record)
    verdicts += [
        check_agreement(record),
        check_validity(record, chain),
        check_conservation(record, chain),
        check_durability(record, chain),
        check_partition(record),
        check_liveness(record),
        check_accusation(record),
        check_reads(record),
    ]
    return verdicts


__all__ = ["FAIL", "PASS", "UNKNOWN", "Verdict", "check_run", "verify_chain"]
