"""A node's home directory: genesis, configuration, keys and data (``aethel node init``).

Layout of ``--home DIR``::

    genesis.json   the chain: validator set (ids, public keys, stakes, epoch seed), account
                   balances and the protocol parameters every node must share; a chain that
                   moves to protocol version 2 also names ``protocol_v2_height`` and its set is
                   of version 2 (each member's BLS key, proof of possession and region, V2.1)
    node.json      this node: its validator id, the addresses it listens on, its peers (and,
                   optionally, the protocol versions it runs: ``protocol_versions``)
    key.json       this node's secret seeds (validator key, judge key; on a version-2 chain
                   also the BLS key's seed); mode 0600 (R5.3)
    data/          state store (state.sqlite) and vote journal (votes.sqlite)
    ran            written the first time the node opened its data: if data/ is missing later,
                   the node was wiped and has lost its vote journal (it then votes only at
                   heights it cannot have voted at before, and catches up by state sync)

Every file is canonical JSON (E1). The chain id is the SHA-256 of genesis.json's canonical bytes:
peers prove they belong to the same chain in the handshake (:mod:`aethel.node.handshake`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from aethel.consensus.ledger import make_genesis
from aethel.consensus.signing import BLS_KEY_INFO
from aethel.consensus.v2.version import version_of_height
from aethel.consensus.validators import ValidatorSet, parse_validator_set
from aethel.crypto import bls
from aethel.encoding import KeyPair, canonical_json, parse_canonical_json, parse_hex, sha256
from aethel.errors import AethelError, UsageError
from aethel.state.transitions import Genesis

Mode = Literal["broadcast", "collector"]

GENESIS_FILE = "genesis.json"
NODE_FILE = "node.json"
KEY_FILE = "key.json"
DATA_DIR = "data"
RAN_FILE = "ran"
#: The protocol versions this node implements (spec/consensus-v2.md); node.json may narrow them.
PROTOCOL_VERSIONS: tuple[int, ...] = (1, 2)

#: Protocol parameters a chain fixes in its genesis (every node must use the same).
DEFAULT_PARAMS: dict[str, Any] = {
    "mode": "collector",
    # Least time between a commit and the next proposal, and the longest an idle leader waits
    # for work before it proposes an empty block (the view timeout is 4 s: R2.6).
    "block_interval_ms": 5,
    "idle_block_ms": 1_000,
    "max_block_proofs": 200,
}


class HomeError(AethelError):
    """A home directory is missing a file or holds a malformed one."""


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """The parsed genesis.json."""

    validators: ValidatorSet
    balances: dict[str, int]
    params: dict[str, Any]
    chain_id: bytes
    #: The genesis's ``protocol_v2_height`` (V2.1), None if it names none.
    protocol_v2_height: int | None = None

    @property
    def activation(self) -> int | None:
        """The first height of protocol version 2 (V2.1): the genesis's ``protocol_v2_height``,
        else a version-2 set's ``first_height``; None: version 1 at every height."""
        if self.protocol_v2_height is None and self.validators.v2 is not None:
            return self.validators.v2.first_height
        return self.protocol_v2_height

    @property
    def genesis(self) -> Genesis:
        """The state before height 1."""
        return make_genesis(self.balances, self.validators)

    @property
    def mode(self) -> Mode:
        return cast(Mode, self.params["mode"])

    def version_of(self, height: int) -> int:
        """The protocol version height ``height`` runs (V2.1)."""
        return version_of_height(height, self.activation)

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "balances": dict(sorted(self.balances.items())),
            "params": dict(sorted(self.params.items())),
            "validators": self.validators.to_wire(),
        }
        if self.protocol_v2_height is not None:
            value["protocol_v2_height"] = self.protocol_v2_height
        return value


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """The parsed node.json: who this node is and where it listens and dials."""

    id: str
    peer_listen: str
    api_listen: str
    #: validator id -> "host:port" of its peer port (every other validator).
    peers: dict[str, str]
    #: The protocol versions this node runs (default: all it implements). A node configured
    #: ``(1,)`` behaves as a node that implements version 1 only (V2.2): it runs the heights
    #: below the chain's ``protocol_v2_height`` and stops at the height before it.
    protocol_versions: tuple[int, ...] = PROTOCOL_VERSIONS

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "api_listen": self.api_listen,
            "id": self.id,
            "peer_listen": self.peer_listen,
            "peers": dict(sorted(self.peers.items())),
        }
        if self.protocol_versions != PROTOCOL_VERSIONS:
            value["protocol_versions"] = list(self.protocol_versions)
        return value


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """The secret keys of one node (never printed: R5.3).

    ``bls_seed``: 32 secret bytes; the node's BLS key for version-2 votes is KeyGen over them
    with key_info :data:`~aethel.consensus.signing.BLS_KEY_INFO` (V2.3). None on a chain that
    never runs version 2.
    """

    validator: KeyPair
    judge: KeyPair
    bls_seed: bytes | None = None

    @property
    def bls(self) -> bls.SecretKey | None:
        """The BLS secret key (V2.3), or None without a BLS seed."""
        return None if self.bls_seed is None else bls_key_of(self.bls_seed)


def bls_key_of(seed: bytes) -> bls.SecretKey:
    """Return the BLS secret key a node keeps as ``seed`` in key.json (V2.3)."""
    return bls.SecretKey.from_seed(seed, BLS_KEY_INFO)


def parse_address(text: object) -> tuple[str, int]:
    """Parse ``host:port`` (an IPv6 host in brackets); raise :class:`UsageError`."""
    if not isinstance(text, str) or ":" not in text:
        raise UsageError(f"an address is host:port, got {text!r}")
    host, _, port_text = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65_535:
        raise UsageError(f"an address is host:port with a port from 0 to 65535, got {text!r}")
    return host, int(port_text)


def chain_id_of(spec_json: dict[str, Any]) -> bytes:
    """Return the chain id: SHA-256 of the canonical genesis."""
    return sha256(canonical_json(spec_json))


GENESIS_MEMBERS = frozenset({"balances", "params", "validators"})


def parse_chain_spec(value: object) -> ChainSpec:
    """Parse genesis.json's content strictly; raise :class:`HomeError`.

    ``protocol_v2_height`` (optional, V2.1) is an integer of at least 1, and a genesis that
    names it holds a version-2 validator set whose ``first_height`` is the same height (the
    set's BLS keys are registered as it is parsed: V2.4, V2.6).
    """
    if not isinstance(value, dict) or set(value) - {"protocol_v2_height"} != GENESIS_MEMBERS:
        raise HomeError(
            "genesis.json holds exactly balances, params and validators (and optionally "
            "protocol_v2_height)"
        )
    try:
        validators = parse_validator_set(value["validators"])
    except AethelError as exc:
        raise HomeError(f"genesis.json: bad validator set: {exc}") from None
    activation = value.get("protocol_v2_height")
    if activation is not None or "protocol_v2_height" in value:
        if type(activation) is not int or activation < 1:
            raise HomeError(f"genesis.json: protocol_v2_height {activation!r} is not an int >= 1")
        if validators.v2 is None or validators.v2.first_height != activation:
            raise HomeError(
                "genesis.json: protocol_v2_height needs a version-2 validator set whose "
                f"first_height is {activation} (V2.1)"
            )
    balances = value["balances"]
    if not isinstance(balances, dict) or any(
        type(v) is not int or v < 0 for v in balances.values()
    ):
        raise HomeError("genesis.json: balances map accounts to non-negative integers")
    params = value["params"]
    if not isinstance(params, dict) or set(params) != set(DEFAULT_PARAMS):
        raise HomeError(f"genesis.json: params holds exactly {sorted(DEFAULT_PARAMS)}")
    if params["mode"] not in ("broadcast", "collector"):
        raise HomeError("genesis.json: params.mode is broadcast or collector")
    for name in ("block_interval_ms", "idle_block_ms", "max_block_proofs"):
        if type(params[name]) is not int or params[name] < 0:
            raise HomeError(f"genesis.json: params.{name} is a non-negative integer")
    return ChainSpec(validators, dict(balances), dict(params), chain_id_of(value), activation)


def read_genesis(path: str | Path) -> ChainSpec:
    """Read and parse a genesis.json (as written, with its final newline, or hand-edited)."""
    return parse_chain_spec(_read(Path(path)))


def parse_node_config(value: object) -> NodeConfig:
    """Parse node.json's content strictly; raise :class:`HomeError`."""
    names = {"id", "peer_listen", "api_listen", "peers"}
    if not isinstance(value, dict) or set(value) - {"protocol_versions"} != names:
        raise HomeError(f"node.json holds exactly {sorted(names)} (and protocol_versions)")
    versions = value.get("protocol_versions", list(PROTOCOL_VERSIONS))
    if (
        not isinstance(versions, list)
        or not versions
        or 1 not in versions
        or any(type(v) is not int or v not in PROTOCOL_VERSIONS for v in versions)
        or len(set(versions)) != len(versions)
    ):
        raise HomeError(
            f"node.json: protocol_versions lists distinct versions of {list(PROTOCOL_VERSIONS)}, "
            "1 among them"
        )
    peers = value["peers"]
    if not isinstance(peers, dict):
        raise HomeError("node.json: peers maps validator ids to host:port")
    try:
        parse_address(value["peer_listen"])
        parse_address(value["api_listen"])
        for address in peers.values():
            parse_address(address)
    except UsageError as exc:
        raise HomeError(f"node.json: {exc}") from None
    if not isinstance(value["id"], str):
        raise HomeError("node.json: id is a validator id")
    return NodeConfig(
        value["id"],
        value["peer_listen"],
        value["api_listen"],
        dict(peers),
        tuple(sorted(versions)),
    )


def _read(path: Path) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HomeError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_canonical_json(data)
    except AethelError:
        try:
            return json.loads(data)  # hand-edited files need not be canonical
        except ValueError as exc:
            raise HomeError(f"{path} is not JSON: {exc}") from None


def _write(path: Path, value: object, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if secret else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(canonical_json(value) + b"\n")
    os.replace(temporary, path)


@dataclass(frozen=True, slots=True)
class Home:
    """An initialised home directory, read back."""

    path: Path
    chain: ChainSpec
    config: NodeConfig
    keys: NodeKeys

    @property
    def data(self) -> Path:
        return self.path / DATA_DIR

    @property
    def ran_before(self) -> bool:
        return (self.path / RAN_FILE).exists()

    def mark_ran(self) -> None:
        (self.path / RAN_FILE).write_text("1\n", encoding="ascii")


def load_home(path: str | Path) -> Home:
    """Read and check a home directory; raise :class:`HomeError` naming what is wrong."""
    root = Path(path)
    chain = parse_chain_spec(_read(root / GENESIS_FILE))
    config = parse_node_config(_read(root / NODE_FILE))
    keys_json = _read(root / KEY_FILE)
    seeds = {"validator_seed", "judge_seed"}
    if not isinstance(keys_json, dict) or set(keys_json) - {"bls_seed"} != seeds:
        raise HomeError("key.json holds exactly validator_seed and judge_seed (and bls_seed)")
    try:
        validator = KeyPair.from_seed(parse_hex(keys_json["validator_seed"], length=32))
        judge = KeyPair.from_seed(parse_hex(keys_json["judge_seed"], length=32))
        bls_seed = parse_hex(keys_json["bls_seed"], length=32) if "bls_seed" in keys_json else None
    except AethelError:
        raise HomeError("key.json: seeds are 32 bytes of lowercase hex") from None
    member = chain.validators.get(config.id)
    if member is None:
        raise HomeError(f"node.json: {config.id} is not a validator of this genesis")
    if member.public_key != validator.public_key:
        raise HomeError(f"key.json: the validator key is not {config.id}'s key in the genesis")
    keys = NodeKeys(validator, judge, bls_seed)
    _check_bls_key(chain, config, keys)
    return Home(root, chain, config, keys)


def _check_bls_key(chain: ChainSpec, config: NodeConfig, keys: NodeKeys) -> None:
    """Refuse a home that cannot sign its version-2 votes (V2.3, V2.4): a node that runs
    version 2 on a chain that moves to it needs the BLS key the genesis lists for it."""
    member = chain.validators.get(config.id)
    if member is None or member.bls_key is None or 2 not in config.protocol_versions:
        return
    secret = keys.bls
    if secret is None:
        raise HomeError(f"key.json: {config.id} runs protocol version 2 and has no bls_seed")
    if secret.public_key().data != member.bls_key:
        raise HomeError(f"key.json: the BLS key is not {config.id}'s bls_key in the genesis")


def write_home(
    path: str | Path,
    chain: ChainSpec,
    config: NodeConfig,
    keys: NodeKeys,
) -> Home:
    """Write a home directory (refuses one that already holds a genesis)."""
    root = Path(path)
    if (root / GENESIS_FILE).exists():
        raise UsageError(f"{root} is already initialised")
    _write(root / GENESIS_FILE, chain.to_json())
    _write(root / NODE_FILE, config.to_json())
    seeds = {"judge_seed": keys.judge.seed.hex(), "validator_seed": keys.validator.seed.hex()}
    if keys.bls_seed is not None:
        seeds["bls_seed"] = keys.bls_seed.hex()
    _write(root / KEY_FILE, seeds, secret=True)
    (root / DATA_DIR).mkdir(exist_ok=True)
    return load_home(root)


def make_chain_spec(
    validators: ValidatorSet,
    balances: dict[str, int],
    params: dict[str, Any] | None = None,
    protocol_v2_height: int | None = None,
) -> ChainSpec:
    """Return a chain spec (checked as if read from disk); ``protocol_v2_height`` names the
    first height of protocol version 2 (V2.1; ``validators`` is then a version-2 set)."""
    value: dict[str, Any] = {
        "balances": dict(balances),
        "params": {**DEFAULT_PARAMS, **(params or {})},
        "validators": validators.to_wire(),
    }
    if protocol_v2_height is not None:
        value["protocol_v2_height"] = protocol_v2_height
    return parse_chain_spec(parse_canonical_json(canonical_json(value)))


__all__ = [
    "DEFAULT_PARAMS",
    "PROTOCOL_VERSIONS",
    "ChainSpec",
    "Home",
    "HomeError",
    "NodeConfig",
    "NodeKeys",
    "bls_key_of",
    "load_home",
    "make_chain_spec",
    "parse_address",
    "read_genesis",
    "write_home",
]
