"""The node contract, version 2 (conformance/NODE.md): homes, the command template, readiness.

The harness writes one home directory per validator (the reference layout of
``aethel/node/home.py``: ``genesis.json``, ``node.json``, ``key.json``) and starts each node with
a command template whose placeholders it fills in (:data:`PLACEHOLDERS`). Every peer address a
node is given is an address of the harness's proxy (:mod:`conformance.network.proxy`), one per
ordered pair of validators, so every byte between two nodes passes through the harness.

Spec: the contract is the edge of R2.* and R5.4 checks run on real processes (NODE.md).
"""

from __future__ import annotations

import random
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from aethel.consensus.validators import Validator, ValidatorSet
from aethel.economics import MIN_STAKE
from aethel.encoding import KeyPair, to_hex
from aethel.errors import UsageError
from aethel.node.home import (
    GENESIS_FILE,
    KEY_FILE,
    NODE_FILE,
    ChainSpec,
    NodeConfig,
    NodeKeys,
    make_chain_spec,
    write_home,
)

#: 2: the liveness bound is derived per run (NODE.md, "The liveness bound"); 1 had a fixed 60 s.
CONTRACT_VERSION = 2
#: The reference node, as a command template.
REFERENCE_COMMAND = "{python} -m aethel.node run --home {home}"
#: What a template may name; anything else in braces is refused before a node starts.
PLACEHOLDERS = (
    "home",
    "data",
    "id",
    "genesis",
    "key",
    "node_config",
    "peer_listen",
    "api_listen",
    "peer_port",
    "api_port",
    "peers",
    "python",
)
#: Balance of every client account at genesis.
ACCOUNT_BALANCE = 10**12
#: Every validator's stake (equal stakes: q(W) is a count).
STAKE = 10 * MIN_STAKE
HOST = "127.0.0.1"


class ContractError(UsageError):
    """A command template or an implementation argument the harness cannot use."""


@dataclass(frozen=True, slots=True)
class NodeSlot:
    """One validator of a run: who it is, where it lives and listens, how it is started."""

    id: str
    index: int
    home: Path
    peer_port: int
    api_port: int
    #: validator id -> proxy address (host:port) this node dials to reach it.
    peers: dict[str, str]
    template: str
    #: "reference" or "impl": which implementation runs this slot.
    kind: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def data(self) -> Path:
        return self.home / "data"

    def values(self) -> dict[str, str]:
        """The placeholder values of this slot."""
        return {
            "home": str(self.home),
            "data": str(self.data),
            "id": self.id,
            "genesis": str(self.home / GENESIS_FILE),
            "key": str(self.home / KEY_FILE),
            "node_config": str(self.home / NODE_FILE),
            "peer_listen": f"{HOST}:{self.peer_port}",
            "api_listen": f"{HOST}:{self.api_port}",
            "peer_port": str(self.peer_port),
            "api_port": str(self.api_port),
            "peers": ",".join(f"{p}={a}" for p, a in sorted(self.peers.items())),
            "python": sys.executable,
        }

    def command(self) -> list[str]:
        """The argv of this node's process (the template with its placeholders filled)."""
        return expand(self.template, self.values())


def check_template(template: str) -> None:
    """Refuse a template that is empty, does not parse as a shell word list, or names an
    unknown placeholder; it must name ``{home}`` (or every file it needs)."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise ContractError(f"the node command does not parse: {exc}") from None
    if not words:
        raise ContractError("the node command is empty")
    text = " ".join(words)
    position = 0
    while (start := text.find("{", position)) != -1:
        end = text.find("}", start)
        if end == -1:
            raise ContractError(f"unclosed placeholder in the node command: {text[start:]!r}")
        name = text[start + 1 : end]
        if name not in PLACEHOLDERS:
            raise ContractError(
                f"unknown placeholder {{{name}}} in the node command; known: "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
        position = end + 1


def expand(template: str, values: dict[str, str]) -> list[str]:
    """Split ``template`` into words and fill each word's placeholders (no shell involved)."""
    check_template(template)
    words = []
    for word in shlex.split(template):
        for name, value in values.items():
            word = word.replace("{" + name + "}", value)
        words.append(word)
    return words


@dataclass(frozen=True, slots=True)
class ChainSetup:
    """The genesis of a run and the client accounts it funds (keys drawn from the seed)."""

    chain: ChainSpec
    validator_keys: tuple[NodeKeys, ...]
    accounts: tuple[KeyPair, ...]

    @property
    def ids(self) -> list[str]:
        return [member.id for member in self.chain.validators.validators]


def make_chain(validators: int, accounts: int, seed: int) -> ChainSetup:
    """A chain of ``validators`` equal-stake members and ``accounts`` funded client accounts."""
    if not 1 <= validators <= 64:
        raise ContractError("a network run has 1 to 64 validators")
    rng = random.Random(f"aethel-network-chain/{seed}")
    ids = [f"v{i:03d}" for i in range(validators)]
    keys = tuple(NodeKeys(KeyPair.generate(rng), KeyPair.generate(rng)) for _ in ids)
    members = [Validator(i, k.validator.public_key, STAKE) for i, k in zip(ids, keys, strict=True)]
    validator_set = ValidatorSet.create(0, rng.randbytes(32), members)
    clients = tuple(KeyPair.generate(rng) for _ in range(accounts))
    balances = {to_hex(key.public_key): ACCOUNT_BALANCE for key in clients}
    return ChainSetup(make_chain_spec(validator_set, balances), keys, clients)


def write_homes(setup: ChainSetup, slots: list[NodeSlot]) -> None:
    """Write every slot's home (genesis, node.json with the proxy addresses, key)."""
    for slot, keys in zip(slots, setup.validator_keys, strict=True):
        config = NodeConfig(
            id=slot.id,
            peer_listen=f"{HOST}:{slot.peer_port}",
            api_listen=f"{HOST}:{slot.api_port}",
            peers=dict(slot.peers),
        )
        write_home(slot.home, setup.chain, config, keys)


__all__ = [
    "CONTRACT_VERSION",
    "PLACEHOLDERS",
    "REFERENCE_COMMAND",
    "ChainSetup",
    "ContractError",
    "NodeSlot",
    "check_template",
    "expand",
    "make_chain",
    "write_homes",
]
