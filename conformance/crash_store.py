"""The state store under SIGKILL (R5.4): killed mid-commit, restarted on the same directory.

The campaign runs the implementation as a child process (:mod:`conformance.crash`) on a store
path the harness chooses, commits a deterministic chain of heights (each a batch of transfers and
a reward), and kills the process at a drawn instant while it handles a request: most kills
interrupt a ``commit_transition``, some a reopening. Each time it starts the process again on the
same path and checks:

* the store reopens at the last acknowledged height, or at the height whose commit was
  interrupted, never below (an acknowledged height lost) and never anything else;
* the latest root is the root of that height, and at every checked height the values equal those
  of the uninterrupted chain and the proofs verify against the acknowledged root: nothing
  half-written is visible;
* the chain goes on from there, every new root equal to the uninterrupted chain's.

The uninterrupted chain is computed beside it by the reference store (:mod:`aethel.state`), the
oracle of roots and values (E8: the root of a state is fixed by the spec). At the end every
acknowledged height is checked once more.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aethel.merkle.proofs import InclusionProof, proof_from_dict, verify_proof
from aethel.state.store import StateStore
from aethel.state.transitions import Genesis, Transition
from conformance.adapters.errors import Rejected
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.reference_state import operation_from_json
from conformance.crash import (
    Campaign,
    Child,
    ChildFailure,
    Kill,
    answered,
    draw_delay,
)

ACCOUNTS = tuple(f"acct{i:03d}" for i in range(160))
VALIDATORS = tuple(f"val{i}" for i in range(4))
BALANCE, STAKE = 1_000_000, 50_000
#: Transfers in each height (one per sender): enough nodes that a commit takes a while.
TRANSFERS_PER_HEIGHT = 96
HANDLE = "s"
#: Share of kills that interrupt a reopening instead of a commit.
REOPEN_KILLS = 0.15
#: Acknowledged heights checked after each restart, besides the latest ones.
SAMPLED_HEIGHTS = 3


class Chain:
    """The campaign's deterministic chain, committed uninterrupted by the reference (oracle)."""

    def __init__(self, seed: int, path: Path) -> None:
        self._rng = random.Random(f"aethel-conformance/crash-store/{seed}")
        self.oracle = StateStore(path, durable=False)
        self.balances = dict.fromkeys(ACCOUNTS, BALANCE)
        self.stakes = dict.fromkeys(VALIDATORS, STAKE)
        self.oracle.commit(self.oracle.stage_genesis(Genesis(self.balances, self.stakes)))
        self.roots = {0: self.oracle.root.hex()}
        self.operations: dict[int, list[dict[str, Any]]] = {}
        #: Keys each height wrote (a few are read back at that height).
        self.touched: dict[int, list[str]] = {0: ["balance:acct000", "stake:val0"]}
        self._nonces = dict.fromkeys(ACCOUNTS, 0)

    def height(self, number: int) -> list[dict[str, Any]]:
        """Return the operations of height ``number`` (computed in order, then remembered)."""
        while len(self.operations) < number:
            self._extend(len(self.operations) + 1)
        return self.operations[number]

    def _extend(self, number: int) -> None:
        rng = self._rng
        senders = rng.sample(ACCOUNTS, TRANSFERS_PER_HEIGHT)
        ops: list[dict[str, Any]] = []
        touched: list[str] = []
        for sender in senders:
            recipient = rng.choice([a for a in ACCOUNTS if a != sender])
            ops.append(
                {
                    "op": "transfer",
                    "sender": sender,
                    "recipient": recipient,
                    "amount": rng.randrange(1, 100),
                    "nonce": self._nonces[sender],
                }
            )
            self._nonces[sender] += 1
            touched += [f"balance:{sender}", f"nonce:{sender}", f"balance:{recipient}"]
        ops.append({"op": "reward", "account": rng.choice(ACCOUNTS), "amount": 1})
        transition = Transition(number, tuple(operation_from_json(op) for op in ops))
        self.oracle.commit(self.oracle.stage(transition))
        self.operations[number] = ops
        self.roots[number] = self.oracle.root.hex()
        self.touched[number] = [*touched[:6], "supply:minted", "balance:nobody"]

    def root(self, number: int) -> str:
        """Return the root of height ``number`` in the uninterrupted chain."""
        if number > 0:
            self.height(number)
        return self.roots[number]

    def close(self) -> None:
        self.oracle.close()


@dataclass
class StoreCampaignSummary:
    """What a store campaign did (printed by the command, recorded by the suite's case)."""

    seed: int
    kills: int = 0
    kills_in_commits: int = 0
    kills_in_reopens: int = 0
    #: Kills that landed before the interrupted commit was answered.
    kills_before_answer: int = 0
    #: Of those, how often the interrupted height was visible after the restart (fully).
    interrupted_visible: int = 0
    heights: int = 0
    seconds: float = 0.0
    commit_ms_median: float = 0.0
    delays_ms: list[float] = field(default_factory=list)


class StoreCampaign(Campaign):
    """One campaign (see the module docstring)."""

    RULE = "R5.4"
    NAME = "store"

    def __init__(
        self,
        command: list[str],
        work: Path,
        seed: int,
        kills: int,
        *,
        spec: str,
        options: LoadOptions | None = None,
    ) -> None:
        super().__init__(command, work, seed, kills, spec=spec, options=options)
        self.path = work / "store" / "state"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.chain = Chain(seed, work / "oracle.sqlite")
        self.acked: dict[int, str] = {}
        self.commit_s: list[float] = []
        self.open_s: list[float] = []
        self.summary = StoreCampaignSummary(seed)
        #: Scales the drawn delays: shrinks when a kill came after the answer (a busy machine
        #: answers late and wakes the harness late), grows back when it came before.
        self.aim = 1.0

    # ------------------------------------------------------------------ the process

    def start(self) -> Child:
        child = Child(self.command, self.work / "stderr.txt", self.options)
        try:
            child.hello()
            if "state-store" not in child.capabilities:
                raise self.fail("the implementation does not declare capability state-store")
            began = time.perf_counter()
            child.request("state-store.open", {"path": str(self.path)}, HANDLE)
            self.open_s.append(time.perf_counter() - began)
        except ChildFailure as exc:
            child.kill()
            raise self.fail(f"the store did not reopen: {exc}") from None
        except Rejected as exc:
            child.kill()
            raise self.fail(f"the store refused to reopen: {exc}") from None
        return child

    def call(self, child: Child, cmd: str, **params: Any) -> Any:
        try:
            return child.request(f"state-store.{cmd}", params, HANDLE)
        except (ChildFailure, Rejected) as exc:
            raise self.fail(f"{cmd}({params}) failed: {type(exc).__name__}: {exc}") from None

    # ------------------------------------------------------------------ the chain

    def top(self) -> int:
        return max(self.acked)

    def commit(self, child: Child) -> None:
        """Commit the next height in peace and check its root."""
        number = self.top() + 1
        began = time.perf_counter()
        answer = self.call(
            child, "commit_transition", height=number, operations=self.chain.height(number)
        )
        self.commit_s.append(time.perf_counter() - began)
        self.acknowledge(number, answer)

    def acknowledge(self, number: int, answer: Any) -> None:
        root = answer.get("root") if isinstance(answer, dict) else None
        if root != self.chain.root(number):
            raise self.fail(
                f"height {number} was acknowledged with root {root}, the chain's is "
                f"{self.chain.root(number)}"
            )
        self.acked[number] = root

    def estimate(self, samples: list[float]) -> float:
        recent = samples[-9:]
        return statistics.median(recent) if recent else 0.005

    def interrupt_commit(self, child: Child, number_of_kill: int) -> int | None:
        """Send the next height, kill the process after a drawn delay; return the height if
        the kill landed before its answer."""
        number = self.top() + 1
        delay = draw_delay(self.rng, self.estimate(self.commit_s)) * self.aim
        request = child.send(
            "state-store.commit_transition",
            {"height": number, "operations": self.chain.height(number)},
            HANDLE,
        )
        time.sleep(delay)
        lines = child.kill()
        try:
            answer = answered(lines, request)
        except KeyError:
            answer = None
        except (ChildFailure, Rejected) as exc:
            raise self.fail(f"the interrupted commit of height {number} failed: {exc}") from None
        self.kill = Kill(number_of_kill, f"commit_transition({number})", delay, answer is not None)
        self.summary.kills_in_commits += 1
        self.summary.delays_ms.append(delay * 1000)
        if answer is not None:
            self.aim = max(0.2, self.aim * 0.8)
            self.acknowledge(number, answer)
            return None
        self.aim = min(1.5, self.aim * 1.1)
        self.summary.kills_before_answer += 1
        return number

    def interrupt_reopen(self, number_of_kill: int) -> None:
        """Start the process, kill it while it reopens the store."""
        child = Child(self.command, self.work / "stderr.txt", self.options)
        try:
            child.hello()
        except ChildFailure as exc:
            child.kill()
            raise self.fail(f"the process did not start: {exc}") from None
        delay = draw_delay(self.rng, self.estimate(self.open_s))
        child.send("state-store.open", {"path": str(self.path)}, HANDLE)
        time.sleep(delay)
        lines = child.kill()
        self.kill = Kill(number_of_kill, "open", delay, bool(lines))
        self.summary.kills_in_reopens += 1
        self.summary.delays_ms.append(delay * 1000)

    # ------------------------------------------------------------------ checks

    def check_restart(self, child: Child, interrupted: int | None) -> None:
        """Check the reopened store (see the module docstring); adopt a visible interrupted
        height as committed."""
        latest = self.call(child, "latest")
        height = latest.get("height") if isinstance(latest, dict) else None
        top = self.top()
        allowed = {top} if interrupted is None else {top, interrupted}
        if height not in allowed:
            if isinstance(height, int) and height < top:
                raise self.fail(f"acknowledged height {top} lost: the store reopened at {height}")
            raise self.fail(f"the store reopened at height {height!r}; expected one of {allowed}")
        assert isinstance(height, int)
        root = latest.get("root")
        if root != self.chain.root(height):
            raise self.fail(
                f"the store reopened at height {height} with root {root}, not the committed "
                f"{self.chain.root(height)}: a half-written height"
            )
        if height == interrupted:
            self.summary.interrupted_visible += 1
            self.acked[height] = root
        earlier = [h for h in self.acked if h < height - 2]
        sampled = self.rng.sample(earlier, min(SAMPLED_HEIGHTS, len(earlier)))
        for number in sorted({height, height - 1, height - 2, *sampled}):
            if number >= 0:
                self.check_height(child, number)

    def check_height(self, child: Child, number: int) -> None:
        """Read back the keys height ``number`` wrote: values and proofs of the chain's."""
        root = self.chain.root(number)
        missing = object()
        for key in self.chain.touched[number]:
            want = self.chain.oracle.get(key, number, missing)
            got = self.call(child, "get", key=key, height=number)
            expected = {"found": False} if want is missing else {"found": True, "value": want}
            if got != expected:
                raise self.fail(f"{key} at height {number} reads {got}, committed {expected}")
            proof = self.call(child, "prove", key=key, height=number)
            self.check_proof(proof, key, number, root, want is not missing, want)

    def check_proof(
        self, proof: Any, key: str, number: int, root: str, present: bool, value: Any
    ) -> None:
        try:
            parsed = proof_from_dict(proof)
        except Exception as exc:  # any malformed proof is the implementation's failure
            raise self.fail(f"the proof of {key} at height {number} is malformed: {exc}") from None
        ok = parsed.key == key and verify_proof(parsed, bytes.fromhex(root))
        if ok and present:
            ok = isinstance(parsed, InclusionProof) and proof.get("value") == value
        elif ok:
            ok = not isinstance(parsed, InclusionProof)
        if not ok:
            raise self.fail(
                f"the proof of {key} at height {number} does not prove the committed value "
                f"under the acknowledged root {root[:16]}..."
            )

    # ------------------------------------------------------------------ the campaign

    def run(self, progress: Callable[[int], None] | None = None) -> StoreCampaignSummary:
        """Run the campaign of ``planned`` SIGKILLs; raise :class:`CrashFailure` on a loss."""
        began = time.monotonic()
        child = self.start()
        try:
            latest = self.call(child, "latest")
            if latest.get("height") is not None:
                raise self.fail(f"a new store path opened at height {latest.get('height')}")
            genesis = self.call(
                child,
                "commit_genesis",
                balances=self.chain.balances,
                stakes=self.chain.stakes,
            )
            if genesis != self.chain.root(0):
                raise self.fail(f"genesis root {genesis}, the chain's is {self.chain.root(0)}")
            self.acked[0] = genesis
            self.commit(child)
            for number in range(1, self.planned + 1):
                for _ in range(self.rng.randrange(0, 3)):
                    self.commit(child)
                interrupted = None
                if self.rng.random() < REOPEN_KILLS:
                    child.kill()
                    self.interrupt_reopen(number)
                else:
                    interrupted = self.interrupt_commit(child, number)
                self.summary.kills += 1
                child = self.start()
                self.check_restart(child, interrupted)
                if progress is not None:
                    progress(number)
            self.kill = None
            for number in sorted(self.acked):
                self.check_height(child, number)
            child.stop()
        except BaseException:
            child.kill()
            raise
        finally:
            self.chain.close()
        self.summary.heights = self.top()
        self.summary.seconds = round(time.monotonic() - began, 3)
        self.summary.commit_ms_median = round(statistics.median(self.commit_s) * 1000, 3)
        return self.summary
