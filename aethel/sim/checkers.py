"""Checkers over a finished simulation's trace (R2.4, R2.3, R3.2, R3.6, R4.*, R2.5, R8.5).

* agreement: honest nodes never commit different (block, post-state root) at one height (P8);
* validity: every block an honest node committed has all proofs valid on re-verification with
  Z3 and comes from a validator (R1.1, R7.3, P28);
* integrity: an honest node commits each height at most once, in increasing order;
* certificates: every certificate behind an honest commit verifies (q(W) stake, signatures);
* liveness: after the last fault heals, every live honest node commits again within the bound
  and goes on to the target height (P9); without faults, every honest node reaches the target
  height (P6);
* conservation and supply books: supply = genesis + minted - burned after every transition,
  no negative balance, minted <= E(h) (R3.6, R4.7, P14, P20);
* rewards: the parent's reward is split exactly by stake among its certificate members, paid
  within 10 s of virtual time of the parent's finality (R1.3, R4.1, R4.5, P15, P18);
* slashing: only validators with signed misbehaviour are slashed; offline ones never (R4.6, P19);
* forensics: from every signed message sent, the validators provably guilty of equivocation or of
  contradicting their own earlier COMMIT in a VIEW-CHANGE. When agreement fails the guilty must
  hold >= W/3 stake, and an honest node must never be among them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aethel.consensus.evidence import signed_by
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.v2.version import version_of_height
from aethel.consensus.votes import aggregate_certificates, certificate_members, check_certificate
from aethel.economics import compute_emission_limit, compute_reward_split
from aethel.encoding import verify_signature_bytes

if TYPE_CHECKING:
    from aethel.consensus.validators import ValidatorSet
    from aethel.sim.engine import CommitRecord
    from aethel.sim.simulator import Simulation

#: Rewards must land within this much virtual time of the parent's finality (R4.5).
REWARD_DEADLINE_NS = 10_000_000_000


def _verdict(ok: bool, detail: str = "") -> dict[str, Any]:
    return {"ok": ok, "detail": detail}


def run_checkers(sim: Simulation, heal: int) -> dict[str, dict[str, Any]]:
    """Run every checker; return {name: {"ok", "detail"}}."""
    honest = {n.index for n in sim.honest_nodes()}
    records = [r for r in sim.engine.commits if r.node in honest]
    by_height: dict[int, list[CommitRecord]] = defaultdict(list)
    for record in records:
        by_height[record.height].append(record)
    results = {
        "agreement": check_agreement(by_height),
        "validity": check_validity(sim, by_height),
        "integrity": check_integrity(records),
        "certificates": check_certificates(sim, by_height),
        "liveness": check_liveness(sim, records, heal),
        "conservation": check_conservation(sim, by_height),
        "supply_books": check_supply(sim, by_height),
        "rewards": check_rewards(sim, by_height),
        "reward_latency": check_reward_latency(by_height),
        "slashing": check_slashing(sim, records),
    }
    results["forensics"] = check_forensics(sim, honest, not results["agreement"]["ok"])
    return results


def check_agreement(by_height: dict[int, list[CommitRecord]]) -> dict[str, Any]:
    """No two honest commits at one height differ in block or post-state root (R2.4, R3.2)."""
    for height, records in sorted(by_height.items()):
        values = {(r.digest, r.post_root) for r in records}
        if len(values) > 1:
            return _verdict(False, f"height {height}: {len(values)} different commits")
    return _verdict(True, f"{len(by_height)} heights agree")


def check_validity(sim: Simulation, by_height: dict[int, list[CommitRecord]]) -> dict[str, Any]:
    """Every committed block re-verifies: all proofs valid, proposer a validator (R1.1, R7.3)."""
    checked = 0
    for height, records in sorted(by_height.items()):
        for record in {r.digest: r for r in records}.values():
            committed = record.committed
            block = committed.block
            if sim.validators.get(block.proposer) is None:
                return _verdict(False, f"height {height}: proposer is no validator")
            verdict = sim.ledger_validator.validate_block(block, committed.execution.pre_root)
            checked += len(verdict.checks)
            if not verdict.valid:
                return _verdict(
                    False, f"height {height}: invalid block committed: {verdict.reason}"
                )
    return _verdict(True, f"{checked} committed proofs re-verified with Z3")


def check_integrity(records: list[CommitRecord]) -> dict[str, Any]:
    """Each honest node commits each height at most once, in increasing order."""
    last: dict[int, int] = {}
    for record in records:
        previous = last.get(record.node, 0)
        if record.height <= previous:
            return _verdict(False, f"node {record.node} committed height {record.height} again")
        last[record.node] = record.height
    return _verdict(True, f"{len(records)} commits, each height once per node")


def _check_by_version(
    sim: Simulation,
    certificate: CommitCertificate,
    validators: ValidatorSet,
    checker: DirectSignatureChecker,
) -> str:
    """Check ``certificate`` in the form of its height's protocol version (V2.2, V2.8)."""
    activation = sim.config.protocol_v2_height
    if activation is None:
        return check_certificate(certificate, validators, checker)
    version = version_of_height(certificate.height, activation)
    if certificate.version != version:
        return f"V2.2: a version-{certificate.version} certificate at a version-{version} height"
    if version == 2:
        return aggregate_certificates()(certificate, validators)
    return check_certificate(certificate, validators, checker)


def check_certificates(sim: Simulation, by_height: dict[int, list[CommitRecord]]) -> dict[str, Any]:
    """Every certificate behind an honest commit holds q(W) stake of valid signatures (R2.3),
    and so does the parent certificate each committed block carries, by the parent height's set
    (the set that signed it, before the parent block's slashing)."""
    checker = DirectSignatureChecker()
    seen: set[bytes] = set()
    sets: dict[int, ValidatorSet] = {}
    for height, records in sorted(by_height.items()):
        # One set per height, from the first commit's pre-state (agreement is checked apart);
        # reading every node's stakes would cost nodes x validators tree reads per height.
        if records:
            stakes = sim.ledger_executor.get_stakes(records[0].committed.execution.pre_root)
            sets[height] = sim.validators.with_stakes(dict(stakes))
    for height, records in sorted(by_height.items()):
        for record in records:
            cert = record.committed.certificate
            last = record.committed.block.last_commit
            checks = [(height, cert)]
            if last is not None and height - 1 in sets:
                checks.append((height - 1, last))
            for certified, certificate in checks:
                if certificate.content_hash in seen:
                    continue
                seen.add(certificate.content_hash)
                reason = _check_by_version(sim, certificate, sets[certified], checker)
                if reason:
                    return _verdict(False, f"height {certified}: {reason}")
            if (cert.digest, cert.post_root) != (record.digest, record.post_root):
                return _verdict(False, f"height {height}: certificate for another block")
    return _verdict(True, f"{len(seen)} distinct certificates verified")


def check_liveness(sim: Simulation, records: list[CommitRecord], heal: int) -> dict[str, Any]:
    """After healing, every live honest node commits again within the bound (R2.5, P9)."""
    config = sim.config
    gone = {f.node for f in sim.faults.nodes if f.kind == "crash" and f.restart_at is None}
    live = [n for n in sim.honest_nodes() if n.index not in gone]
    if not live:
        return _verdict(True, "no live honest node")
    # A validator restarted without its vote journal must not vote where it may have voted
    # before (it could sign twice): until the chain moves past that height it adds no stake.
    amnesic = {
        f.node
        for f in sim.faults.nodes
        if f.kind == "crash" and f.restart_at is not None and not f.saved_state
    }
    honest_stake = sum(
        sim.validators.stake_of(n.validator_id) for n in live if n.index not in amnesic
    )
    if honest_stake < sim.validators.quorum:
        return _verdict(True, "not required: live honest stake able to vote is below q(W)")
    if heal == 0:
        lagging = [
            n.index
            for n in live
            if (latest := n.store.latest()) is None or latest.height < config.heights
        ]
        if lagging:
            return _verdict(False, f"nodes {lagging[:8]} did not reach height {config.heights}")
        return _verdict(True, f"every honest node reached height {config.heights}")
    bound = sim.liveness_bound(heal, records)
    first_after: dict[int, int] = {}
    for record in records:
        if record.time >= heal and record.node not in first_after:
            first_after[record.node] = record.time
    late = [n.index for n in live if first_after.get(n.index, heal + bound + 1) > heal + bound]
    if late:
        return _verdict(False, f"nodes {late[:8]} did not commit within {bound / 1e9:.1f}s of heal")
    worst = max(first_after[n.index] for n in live) - heal
    # One commit after healing is not liveness: the chain must go on to the run's last height
    # (the run lasts 120 s per height beyond the heal, far more than backed-off views need).
    stalled = {
        n.index: latest.height
        for n in live
        if (latest := n.store.latest()) is not None and latest.height < config.heights
    }
    if stalled:
        shown = dict(list(stalled.items())[:8])
        return _verdict(
            False,
            f"nodes committed after heal, then stopped below height {config.heights}: {shown}",
        )
    return _verdict(
        True,
        f"every live honest node committed {worst / 1e9:.2f}s after heal and reached height "
        f"{config.heights}",
    )


def check_conservation(sim: Simulation, by_height: dict[int, list[CommitRecord]]) -> dict[str, Any]:
    """supply = genesis + minted - burned, nothing negative, after every transition (R3.6)."""
    for height, records in sorted(by_height.items()):
        execution = records[0].committed.execution
        state = sim.repository.get(execution.post_root)
        before = sim.repository.get(execution.pre_root)
        if state.supply != state.genesis_supply + state.minted - state.burned:
            return _verdict(False, f"height {height}: supply {state.supply} breaks the books")
        if state.minted - before.minted != execution.minted:
            return _verdict(False, f"height {height}: minted amount mismatch")
        if any(v < 0 for v in state.balances.values()) or any(v < 0 for v in state.stakes.values()):
            return _verdict(False, f"height {height}: a negative balance or stake")
    return _verdict(True, f"{len(by_height)} transitions conserve supply")


def check_supply(sim: Simulation, by_height: dict[int, list[CommitRecord]]) -> dict[str, Any]:
    """Minted through h never exceeds the emission schedule E(h) (R4.7)."""
    for height, records in sorted(by_height.items()):
        minted = records[0].committed.execution.minted_total
        if minted > compute_emission_limit(height):
            return _verdict(False, f"height {height}: minted {minted} > E(h)")
    top = max(by_height, default=0)
    minted = by_height[top][0].committed.execution.minted_total if top else 0
    return _verdict(True, f"minted {minted} <= E({top}) = {compute_emission_limit(top)}")


def check_rewards(sim: Simulation, by_height: dict[int, list[CommitRecord]]) -> dict[str, Any]:
    """Certificate members get exactly their stake share within 10 s (R1.3, R4.1, R4.5)."""
    paid = 0
    for height, records in sorted(by_height.items()):
        if height == 1 or height - 1 not in by_height:
            continue
        committed = records[0].committed
        pre = sim.repository.get(committed.execution.pre_root)
        if pre.pending is None:
            continue
        _, proposer, amount = pre.pending
        cert = committed.block.last_commit
        assert cert is not None
        # Stakes as in the set of this height: a member slashed below MIN_STAKE has none; a
        # reward none of whose members holds any is forfeited (economics.md R1.3).
        stakes = sim.ledger_executor.get_stakes(committed.execution.pre_root)
        validators = sim.validators.with_stakes(dict(stakes))
        members = {m: validators.stake_of(m) for m in certificate_members(cert, validators)}
        paying = amount and any(members.values())
        expected = compute_reward_split(amount, members, proposer) if paying else {}
        if dict(committed.execution.rewards) != expected:
            return _verdict(False, f"height {height}: reward shares differ from the split")
        paid += 1
    return _verdict(True, f"{paid} heights paid their parent's certificate members exactly")


def check_reward_latency(by_height: dict[int, list[CommitRecord]]) -> dict[str, Any]:
    """Rewards land within 10 s of virtual time of the rewarded height's finality (R4.5).

    Rewards of height h are paid in h + 1's transition (the COMMIT of h carries its post-state
    root, so h's certificate can only be agreed in h + 1), so this fails when the next height
    needs more than 10 s, e.g. after two view changes in a row.
    """
    worst = 0
    for height in sorted(by_height):
        if height - 1 not in by_height:
            continue
        finality = min(r.time for r in by_height[height - 1])
        applied = min(r.time for r in by_height[height])
        worst = max(worst, applied - finality)
        if applied - finality > REWARD_DEADLINE_NS:
            late = (applied - finality) / 1e9
            return _verdict(
                False, f"reward of height {height - 1} applied {late:.1f}s after finality"
            )
    return _verdict(True, f"rewards applied at most {worst / 1e9:.2f}s after finality")


def check_slashing(sim: Simulation, records: list[CommitRecord]) -> dict[str, Any]:
    """Slash only signed misbehaviour; offline or honest validators never (R4.2, R4.6)."""
    guilty_kinds = {
        "equivocate",
        "double-vote",
        "invalid-vote",
        "twins",
        "stale-view",
        "future-view",
        "fork",  # as leader it signs two blocks of one view, and votes for both
    }
    slashable = {sim.ids[i] for i, kind in sim.behaviours.items() if kind in guilty_kinds}
    slashed: dict[str, int] = {}
    for record in {r.digest: r for r in records}.values():
        for validator, amount in record.committed.execution.slashed.items():
            slashed[validator] = slashed.get(validator, 0) + amount
    wrong = sorted(set(slashed) - slashable)
    if wrong:
        return _verdict(False, f"slashed without signed misbehaviour: {wrong[:8]}")
    return _verdict(True, f"{len(slashed)} validators slashed, all with evidence")


# --------------------------------------------------------------------------- forensics


def _signed_messages(sent: list[Message]) -> list[SignedMessage]:
    found: list[SignedMessage] = []
    for message in sent:
        if isinstance(message, Prepare | Commit | PrePrepare | ViewChange):
            found.append(message)
        elif isinstance(message, NewView):
            found.append(message)
            found.extend(message.view_changes)
            found.append(message.pre_prepare)
        elif isinstance(message, PrepareCertificate | CommitCertificate):
            found.extend(message.votes)
    return found


def find_culprits(sim: Simulation, sent: list[Message]) -> dict[str, str]:
    """Return {validator: offence} for every validator whose signed messages prove guilt."""
    by_slot: dict[tuple[str, str, int, int], SignedMessage] = {}
    commits: dict[tuple[str, int], list[Commit]] = defaultdict(list)
    culprits: dict[str, str] = {}
    valid: dict[tuple[bytes, bytes], bool] = {}

    activation = sim.config.protocol_v2_height
    direct = DirectSignatureChecker()

    def signed(message: SignedMessage) -> bool:
        member = sim.validators.get(message.validator)
        if member is None:
            return False
        key = (message.payload, message.signature)
        if key not in valid:
            if activation is None:
                valid[key] = verify_signature_bytes(
                    member.public_key, message.payload, message.signature
                )
            else:  # each message as its height's version signs it (V2.2)
                version = version_of_height(message.height, activation)
                valid[key] = signed_by(message, sim.validators, direct, version)
        return valid[key]

    for message in _signed_messages(sent):
        slot = (message.TYPE, message.validator, message.height, message.view)
        prior = by_slot.get(slot)
        if prior is None:
            by_slot[slot] = message
        elif prior.key != message.key and signed(prior) and signed(message):
            culprits.setdefault(message.validator, "equivocation")
        if isinstance(message, Commit):
            commits[(message.validator, message.height)].append(message)
    for message in _signed_messages(sent):
        if not isinstance(message, ViewChange):
            continue
        for commit in commits.get((message.validator, message.height), []):
            if commit.view >= message.view:
                continue
            lied = message.prepared_view < commit.view or (
                message.prepared_view == commit.view and message.prepared_digest != commit.digest
            )
            # An honest validator that sent COMMIT at view v holds a prepare certificate of v,
            # so its later VIEW-CHANGE claims v or higher (with the same digest at v).
            if lied and signed(commit) and signed(message):
                culprits.setdefault(message.validator, "amnesia")
    return culprits


def check_forensics(sim: Simulation, honest: set[int], fork: bool) -> dict[str, Any]:
    """Name the provably guilty; never an honest node; >= W/3 stake of them when forked."""
    sent = sim.engine.sent_log
    if sent is None:
        return _verdict(not fork, "messages not recorded (large run)")
    culprits = find_culprits(sim, sent)
    honest_ids = {sim.engine.nodes[i].validator_id for i in honest}
    framed = sorted(set(culprits) & honest_ids)
    if framed:
        return _verdict(False, f"honest validators named guilty: {framed[:8]}")
    stake = sum(sim.validators.stake_of(v) for v in culprits)
    detail = f"{len(culprits)} provably guilty holding {stake}/{sim.validators.total_stake} stake"
    result = _verdict(True, detail)
    result["guilty"] = dict(sorted(culprits.items()))
    if fork and 3 * stake < sim.validators.total_stake:
        result["ok"] = False
        result["detail"] = "fork with < W/3 stake provably guilty: " + detail
    return result
