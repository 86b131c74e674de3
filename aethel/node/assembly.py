"""The assembled validator: replica, mempool feeding proposals, verifier, store, journal, metrics.

:class:`ValidatorNode` builds one validator from its home directory (:mod:`aethel.node.home`) and
does no I/O of its own beyond its files: the runtime (:mod:`aethel.node.runtime`) feeds it events
and carries out its outputs through the shell. Its parts:

* the state store and the chain store with the vote journal: :class:`~aethel.consensus.persistent.
  PersistentLedger` over :class:`~aethel.state.store.StateStore` in ``data/`` (one SQLite
  transaction per height; the journal is written, synchronously and durably, when the replica
  decides to vote, before the output that sends the vote exists: R5.4, R2.4);
* the verifier with its result cache (:class:`~aethel.proofs.parallel.Verifier`): a proof
  admitted to the mempool is verified once, and block validation finds it in the cache (R1.1);
* the mempool (:class:`~aethel.proofs.mempool.Mempool`) with this node's judge, and the
  leader's block source over it (:class:`~aethel.node.mempool_source.MempoolSource`);
* the replica (:class:`~aethel.consensus.replica.Replica`) and the node's monitoring
  (:class:`~aethel.monitoring.node.NodeMonitor`: Prometheus metrics and the health view, R8.*),
  which check certificates through one :class:`~aethel.node.certificate_memo.CertificateMemo`
  (a certificate the monitor found valid costs the replica no second check).

Protocol version 2 (spec/consensus-v2.md): on a chain whose genesis names
``protocol_v2_height`` the replica runs each height in its version (V2.1, V2.2) and signs its
version-2 votes with the BLS key of its home (V2.3); the BLS work goes through the direct
:class:`~aethel.consensus.v2.checks.AggregateChecker`. A node configured to run version 1 only
(node.json ``protocol_versions`` [1]) has no BLS key and stops at the height before version 2
(:attr:`ValidatorNode.last_height`; the runtime holds every event from that height on).

A node whose home says it ran before but whose data directory is gone was wiped: it lost its
vote journal, so its replica starts amnesic (votes only at heights it cannot have voted at,
R2.4) and asks its peers for the chain's latest certificate to catch up by state sync (R3.5).
"""

from __future__ import annotations

from aethel.consensus.ledger import LedgerValidator, LedgerView
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.persistent import PersistentLedger
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.encoding import to_hex
from aethel.monitoring.node import NodeMonitor
from aethel.node.certificate_memo import CertificateMemo
from aethel.node.home import Home
from aethel.node.mempool_source import MempoolSource
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import Mempool, PendingProof
from aethel.proofs.model import Proof, Transfer
from aethel.proofs.parallel import ResultCache, Verifier
from aethel.state.store import StateStore

STATE_FILE = "state.sqlite"
JOURNAL_FILE = "votes.sqlite"
#: Most accounts kept per committed root for admission (see ValidatorNode.account).
MAX_KEPT_ACCOUNTS = 100_000


class ValidatorNode:
    """One validator assembled from its home directory (see the module docstring)."""

    def __init__(self, home: Home, *, durable: bool = True) -> None:
        self.home = home
        self.id = home.config.id
        chain = home.chain
        data = home.data
        self.wiped = home.ran_before and not (data / STATE_FILE).exists()
        data.mkdir(parents=True, exist_ok=True)
        store = StateStore(data / STATE_FILE, durable=durable)
        try:
            self.ledger = PersistentLedger(store, chain.genesis, data / JOURNAL_FILE)
        except BaseException:
            store.close()
            raise
        home.mark_ran()
        self.verifier = Verifier(cache=ResultCache(100_000))
        self.mempool = Mempool(verifier=self.verifier, judge=Judge(home.keys.judge))
        self.source = MempoolSource(
            self.mempool,
            chain.params["max_block_proofs"],
            repository=self.ledger,
            store=self.ledger,
        )
        #: The certificate check the replica and the monitor share (one pairing per v2 certificate).
        self.certificates = CertificateMemo()
        services = Services(
            DirectSignatureChecker(),
            LedgerValidator(self.ledger, verify=self.verifier.verify),
            self.ledger,
            self.ledger,
            self.source,
            certificates=self.certificates,
        )
        config = ReplicaConfig(
            mode=chain.mode,
            lost_journal=self.wiped,
            sync_on_start=True,
            block_interval_ns=chain.params["block_interval_ms"] * 1_000_000,
            protocol_v2_height=chain.activation,
        )
        runs_v2 = 2 in home.config.protocol_versions
        bls_key = home.keys.bls if runs_v2 else None
        #: The last height this node can run (None: every height). A node that runs version 1
        #: only cannot run the heights of version 2: it stops at the one before (V2.2).
        self.last_height: int | None = (
            None if runs_v2 or chain.activation is None else chain.activation - 1
        )
        self.replica = Replica(
            KeySigner(self.id, home.keys.validator, bls_key), chain.validators, services, config
        )
        self.monitor = NodeMonitor(
            self.id,
            chain.validators,
            mempool=self.mempool,
            certificates=self.certificates,
            activation=chain.activation,
        )
        #: Accounts read at the committed root ``_accounts_root`` (see :meth:`account`).
        self._accounts_root = b""
        self._accounts: dict[bytes, Account] = {}

    def close(self) -> None:
        """Close the store and the journal (everything committed is already on disk)."""
        self.ledger.close()

    # ------------------------------------------------------------------ state

    def latest(self) -> CommitCertificate | None:
        """The certificate of the latest committed height (None before height 1)."""
        return self.ledger.latest()

    @property
    def height(self) -> int:
        """The latest committed height (0 at genesis)."""
        return self.ledger.store.height or 0

    def state(self) -> LedgerView:
        """The latest committed state (read straight from the store's latest root)."""
        return LedgerView(self.ledger.store.tree())

    def account(self, sender: bytes) -> Account:
        """The committed balance and next nonce of ``sender``'s account (R7.1).

        Read once per committed root: the state at a root never changes, so the answers are
        kept until the store's latest root moves (a commit or an installed snapshot), and a
        burst of admissions between two commits reads each sender's account once.
        """
        root = self.ledger.store.root
        if root != self._accounts_root or len(self._accounts) >= MAX_KEPT_ACCOUNTS:
            self._accounts_root = root
            self._accounts = {}
        found = self._accounts.get(sender)
        if found is None:
            state = self.state()
            account = to_hex(sender)
            found = self._accounts[sender] = Account(state.balance(account), state.nonce(account))
        return found

    # ------------------------------------------------------------------ admission

    def submit_transfer(self, transfer: Transfer, proof: Proof | None = None) -> PendingProof:
        """Admit ``transfer`` (with its judge proof, or proved here); raise a typed error.

        Spec: R5.5 (signatures first), R7.1 (nonce order, double spends, balance), R1.1 (the
        proof is the transfer's obligation), R1.5 (it verifies), N6 (the mempool is bounded).
        """
        account = self.account(transfer.sender)
        if proof is None:
            return self.mempool.add_transaction(transfer, account)
        return self.mempool.add_proved_transaction(transfer, proof, account)

    def submit_proof(self, proof: Proof) -> PendingProof:
        """Admit a proof on its own (R5.5, R1.5, N6)."""
        return self.mempool.add_proof(proof)


__all__ = ["JOURNAL_FILE", "STATE_FILE", "ValidatorNode"]
