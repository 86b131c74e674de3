"""Protocol version 2 in the node's files, peer wire and monitor, without processes.

A testnet initialised with a ``protocol_v2_height`` writes a genesis that names it (V2.1) over a
version-2 validator set: each member's BLS key and proof of possession come from the BLS seed
kept in its home's key.json (mode 0600, R5.3), and its region from the testnet's region table
(V2.10). A home whose key cannot sign the votes the genesis expects is refused at load. The peer
wire carries version-2 votes and aggregate certificates unchanged, and the node's monitor counts
the votes of a version-2 height from the bitmap of each certificate whose aggregate verifies
(V2.7, V2.8), never from a forged one.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aethel.cli import app
from aethel.consensus.messages import Commit, CommitCertificate, Prepare, PrepareCertificate
from aethel.consensus.signing import KeySigner
from aethel.consensus.v2.certificate import Certificate, VoteTarget, bitmap
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import certificate_members
from aethel.crypto import bls
from aethel.encoding import canonical_json, sha256
from aethel.errors import ProtocolViolation
from aethel.monitoring.node import NodeMonitor
from aethel.node import testnet as nets
from aethel.node.certificate_memo import CertificateMemo
from aethel.node.client import check_certified
from aethel.node.home import (
    GENESIS_FILE,
    KEY_FILE,
    NODE_FILE,
    Home,
    HomeError,
    load_home,
    parse_chain_spec,
)
from aethel.node.peer_wire import ConsensusFrame, consensus_frame, parse_frame
from aethel.sim.simulator import SimConfig, Simulation

H2 = 3


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> list[Home]:
    net = nets.init_testnet(
        tmp_path_factory.mktemp("v2") / "net",
        4,
        seed=1926,
        accounts=2,
        protocol_v2_height=H2,
        regions=nets.Regions(("a", "b"), ((1, 30), (30, 1)), ("a", "a", "a", "b")),
        protocol_versions={"v003": (1,)},
    )
    return [load_home(node.home) for node in net.nodes]


def _read(path: Path) -> dict[str, object]:
    value = json.loads(path.read_bytes())
    assert isinstance(value, dict)
    return value


def _rewrite(path: Path, value: object) -> None:
    path.write_bytes(canonical_json(value))


@pytest.mark.req("V2.1", "V2.4", "V2.6", "V2.10", "R5.3")
def test_a_version_2_testnet_names_h2_and_each_members_bls_key_from_its_home(
    homes: list[Home],
) -> None:
    chain = homes[0].chain
    assert chain.protocol_v2_height == H2
    assert [chain.version_of(h) for h in (1, H2 - 1, H2, H2 + 5)] == [1, 1, 2, 2]
    genesis = _read(homes[0].path / GENESIS_FILE)
    assert genesis["protocol_v2_height"] == H2
    validators = genesis["validators"]
    assert isinstance(validators, dict) and validators["first_height"] == H2
    assert validators["regions"] == ["a", "b"]
    for home in homes:
        member = chain.validators.get(home.config.id)
        assert member is not None and member.bls_key is not None and member.bls_pop is not None
        # The key the node signs with is the key the genesis registered (V2.4, V2.6).
        assert home.keys.bls is not None
        assert home.keys.bls.public_key().data == member.bls_key
        assert bls.pop_verify(member.bls_key, member.bls_pop)
        key_file = home.path / KEY_FILE
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        assert set(_read(key_file)) == {"validator_seed", "judge_seed", "bls_seed"}
    assert [chain.validators.get(h.config.id).region for h in homes] == ["a", "a", "a", "b"]  # type: ignore[union-attr]
    assert [h.config.protocol_versions for h in homes] == [(1, 2), (1, 2), (1, 2), (1,)]
    assert "protocol_versions" not in _read(homes[0].path / NODE_FILE)
    assert _read(homes[3].path / NODE_FILE)["protocol_versions"] == [1]


def test_a_version_1_testnet_is_written_as_before(tmp_path: Path) -> None:
    """No protocol_v2_height: the genesis, node.json and key.json keep version 1's members."""
    net = nets.init_testnet(tmp_path / "net", 2, seed=1927, accounts=1)
    home = net.nodes[0].home
    assert set(_read(home / GENESIS_FILE)) == {"balances", "params", "validators"}
    assert set(_read(home / KEY_FILE)) == {"validator_seed", "judge_seed"}
    assert set(_read(home / NODE_FILE)) == {"id", "peer_listen", "api_listen", "peers"}
    loaded = load_home(home)
    assert loaded.chain.protocol_v2_height is None and loaded.keys.bls is None
    assert loaded.chain.validators.v2 is None


@pytest.mark.req("V2.1")
@pytest.mark.rejects("V2.1")
@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"protocol_v2_height": 0}, id="height-0"),
        pytest.param({"protocol_v2_height": True}, id="height-bool"),
        pytest.param({"protocol_v2_height": H2 + 1}, id="not-the-sets-first-height"),
        pytest.param({"protocol_v2_height": None}, id="null"),
    ],
)
def test_a_genesis_with_a_bad_activation_height_is_refused(
    homes: list[Home], change: dict[str, object]
) -> None:
    genesis = {**_read(homes[0].path / GENESIS_FILE), **change}
    with pytest.raises(HomeError, match="protocol_v2_height"):
        parse_chain_spec(genesis)


@pytest.mark.req("V2.1")
@pytest.mark.rejects("V2.1")
def test_an_activation_height_over_a_version_1_set_is_refused(tmp_path: Path) -> None:
    net = nets.init_testnet(tmp_path / "net", 1, seed=1928, accounts=1)
    genesis = {**_read(net.nodes[0].home / GENESIS_FILE), "protocol_v2_height": 2}
    with pytest.raises(HomeError, match="version-2 validator set"):
        parse_chain_spec(genesis)


@pytest.mark.req("V2.3", "V2.4")
@pytest.mark.rejects("V2.4")
def test_a_home_whose_bls_key_is_not_its_genesis_key_is_refused(
    homes: list[Home], tmp_path: Path
) -> None:
    source = homes[1].path
    for name in (GENESIS_FILE, NODE_FILE, KEY_FILE):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    keys = _read(tmp_path / KEY_FILE)
    _rewrite(tmp_path / KEY_FILE, {**keys, "bls_seed": "11" * 32})
    with pytest.raises(HomeError, match="BLS key is not v001's"):
        load_home(tmp_path)
    _rewrite(tmp_path / KEY_FILE, {k: v for k, v in keys.items() if k != "bls_seed"})
    with pytest.raises(HomeError, match="no bls_seed"):
        load_home(tmp_path)
    # Configured to run version 1 only, the same home needs no BLS key (it stops before H2).
    node = _read(tmp_path / NODE_FILE)
    _rewrite(tmp_path / NODE_FILE, {**node, "protocol_versions": [1]})
    assert load_home(tmp_path).config.protocol_versions == (1,)


@pytest.mark.parametrize("versions", [[2], [1, 1], [True], [1, 3], [], "1"])
def test_node_json_protocol_versions_are_checked(
    homes: list[Home], tmp_path: Path, versions: object
) -> None:
    source = homes[0].path
    for name in (GENESIS_FILE, KEY_FILE):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    _rewrite(tmp_path / NODE_FILE, {**_read(source / NODE_FILE), "protocol_versions": versions})
    with pytest.raises(HomeError, match="protocol_versions"):
        load_home(tmp_path)


def test_the_testnet_command_writes_a_version_2_testnet(tmp_path: Path) -> None:
    directory = tmp_path / "net"
    result = CliRunner().invoke(
        app,
        [
            "testnet",
            "init",
            "-n",
            "4",
            "--dir",
            str(directory),
            "--seed",
            "3",
            "--protocol-v2-height",
            "5",
            "--v1-only",
            "v002",
        ],
    )
    assert result.exit_code == 0, result.output
    net = nets.load_testnet(directory)
    loaded = [load_home(node.home) for node in net.nodes]
    assert {h.chain.protocol_v2_height for h in loaded} == {5}
    assert [h.config.protocol_versions for h in loaded] == [(1, 2), (1, 2), (1,), (1, 2)]
    assert loaded[0].chain.validators.v2 is not None
    refused = CliRunner().invoke(
        app, ["testnet", "init", "--dir", str(tmp_path / "b"), "--protocol-v2-height", "0"]
    )
    assert refused.exit_code != 0 and not (tmp_path / "b" / nets.TESTNET_FILE).exists()


def test_node_init_joins_a_version_2_genesis_with_its_bls_seed(
    homes: list[Home], tmp_path: Path
) -> None:
    source = homes[2]
    keys = _read(source.path / KEY_FILE)
    key_file = tmp_path / "keys.json"
    key_file.write_text(json.dumps(keys), encoding="utf-8")
    common = [
        "node",
        "init",
        "--genesis",
        str(source.path / GENESIS_FILE),
        "--id",
        "v002",
        "--peer-listen",
        "127.0.0.1:1",
        "--api-listen",
        "127.0.0.1:2",
    ]
    result = CliRunner().invoke(
        app, [*common, "--home", str(tmp_path / "a"), "--key-file", str(key_file)]
    )
    assert result.exit_code == 0, result.output
    assert load_home(tmp_path / "a").keys.bls_seed == source.keys.bls_seed
    # Without its BLS seed it cannot run version 2; configured version-1-only it may.
    key_file.write_text(json.dumps({k: v for k, v in keys.items() if k != "bls_seed"}))
    refused = CliRunner().invoke(
        app, [*common, "--home", str(tmp_path / "b"), "--key-file", str(key_file)]
    )
    assert refused.exit_code == 2 and "no bls_seed" in refused.output
    accepted = CliRunner().invoke(
        app,
        [
            *common,
            "--home",
            str(tmp_path / "c"),
            "--key-file",
            str(key_file),
            "--protocol-versions",
            "1",
        ],
    )
    assert accepted.exit_code == 0, accepted.output
    assert load_home(tmp_path / "c").config.protocol_versions == (1,)


# ---------------------------------------------------------------------- wire and monitor


def _signers(homes: list[Home]) -> list[KeySigner]:
    return [KeySigner(h.config.id, h.keys.validator, h.keys.bls) for h in homes[:3]]


def _certificate(
    homes: list[Home],
    phase: str,
    signers: list[int],
    signed_by: list[int] | None = None,
    height: int = H2,
) -> PrepareCertificate | CommitCertificate:
    """A version-2 certificate at ``height`` with the bitmap ``signers`` and the aggregate of
    the signatures of ``signed_by`` (default: the same members)."""
    root = sha256(b"root") if phase == "commit" else None
    target = VoteTarget(phase, height, 0, sha256(b"block"), root)  # type: ignore[arg-type]
    secrets = [h.keys.bls for h in homes]
    signatures = [secrets[i].sign(target.message()) for i in (signed_by or signers)]  # type: ignore[union-attr]
    aggregate = Certificate(target, bitmap(signers, len(homes)), bls.aggregate(signatures))
    if phase == "commit":
        return CommitCertificate.of_aggregate(aggregate)
    return PrepareCertificate.of_aggregate(aggregate)


@pytest.mark.req("V2.3", "V2.7")
def test_version_2_votes_and_certificates_cross_the_peer_wire_unchanged(
    homes: list[Home],
) -> None:
    signer = _signers(homes)[0]
    messages = [
        Prepare.create(signer, H2, 0, sha256(b"block"), version=2),
        Commit.create(signer, H2, 0, sha256(b"block"), sha256(b"root"), version=2),
        _certificate(homes, "prepare", [0, 1, 2]),
        _certificate(homes, "commit", [0, 1, 3]),
    ]
    for message in messages:
        frame = parse_frame(consensus_frame(message)[4:])
        assert isinstance(frame, ConsensusFrame)
        assert frame.message == message and frame.message.to_wire() == message.to_wire()
    assert len(messages[0].signature) == bls.SIGNATURE_SIZE


def _counted(monitor: NodeMonitor, validators: ValidatorSet) -> dict[str, int]:
    tracker = monitor.metrics.accuracy_tracker
    return {m.id: tracker.verdicts(m.id) for m in validators.validators}


@pytest.mark.req("R8.3", "R8.6", "V2.7", "V2.8")
@pytest.mark.rejects("V2.8")
def test_the_monitor_counts_version_2_votes_from_valid_certificate_bitmaps(
    homes: list[Home],
) -> None:
    validators = homes[0].chain.validators
    monitor = NodeMonitor("v000", validators)
    # The node's own verdict on the block: the votes for it become judgeable (R8.3).
    monitor.on_block_verdict(sha256(b"block"), H2, True)
    # A forged certificate: the bitmap names v000..v002, only v000 and v001 signed (V2.8).
    monitor.on_message(_certificate(homes, "prepare", [0, 1, 2], signed_by=[0, 1]))
    assert _counted(monitor, validators) == {"v000": 0, "v001": 0, "v002": 0, "v003": 0}
    monitor.on_message(_certificate(homes, "prepare", [0, 1, 2]))
    monitor.on_message(_certificate(homes, "commit", [0, 1, 3]))
    assert _counted(monitor, validators) == {"v000": 2, "v001": 2, "v002": 1, "v003": 1}
    # The same certificate again counts nothing more.
    monitor.on_message(_certificate(homes, "commit", [0, 1, 3]))
    assert _counted(monitor, validators)["v003"] == 1
    assert monitor.get_accuracy("v003") == 1.0
    # A valid aggregate at a height of version 1 is of the wrong form there (V2.2): not counted.
    monitor.on_block_verdict(sha256(b"block"), H2 - 1, True)
    monitor.on_message(_certificate(homes, "commit", [0, 1, 2], height=H2 - 1))
    assert _counted(monitor, validators) == {"v000": 2, "v001": 2, "v002": 1, "v003": 1}


@pytest.mark.req("R2.3", "V2.8")
@pytest.mark.rejects("V2.8")
def test_the_replica_and_the_monitor_share_one_check_per_certificate(homes: list[Home]) -> None:
    validators = homes[0].chain.validators
    memo = CertificateMemo()
    good = _certificate(homes, "prepare", [0, 1, 2])
    assert memo(good, validators) == "" and memo(good, validators) == ""
    assert (memo.computed, memo.remembered) == (1, 1)
    forged = _certificate(homes, "prepare", [0, 1, 2], signed_by=[0, 1])
    assert memo(forged, validators).startswith("V2.8") and memo(forged, validators).startswith(
        "V2.8"
    )
    assert (memo.computed, memo.remembered) == (3, 1)
    signers = _signers(homes)
    digest, root = sha256(b"block"), sha256(b"root")
    votes = tuple(Commit.create(s, H2 - 1, 0, digest, root) for s in signers)
    version_one = CommitCertificate(H2 - 1, 0, digest, root, votes)
    assert memo(version_one, validators) == ""
    short = CommitCertificate(H2 - 1, 0, digest, root, votes[:2])
    assert memo(short, validators).startswith("R2.3")


@pytest.mark.req("R2.3", "V2.2", "V2.8")
@pytest.mark.rejects("V2.2", "V2.8")
def test_a_client_checks_a_certificate_in_its_heights_version(homes: list[Home]) -> None:
    """``check_certified`` (what ``verify_account_answer`` runs): a v2 certificate at a v2
    height holds; a forged aggregate, and either form at the other version's height, do not."""
    validators = homes[0].chain.validators
    good = _certificate(homes, "commit", [0, 1, 2])
    assert isinstance(good, CommitCertificate)
    check_certified(good, validators)
    forged = _certificate(homes, "commit", [0, 1, 2], signed_by=[0, 1])
    assert isinstance(forged, CommitCertificate)
    with pytest.raises(ProtocolViolation) as refused:
        check_certified(forged, validators)
    assert refused.value.rule_id == "V2.8"
    signers = _signers(homes)
    digest, root = sha256(b"block"), sha256(b"root")
    votes = tuple(Commit.create(s, H2, 0, digest, root) for s in signers)
    version_one = CommitCertificate(H2, 0, digest, root, votes)
    with pytest.raises(ProtocolViolation) as refused:
        check_certified(version_one, validators)
    assert refused.value.rule_id == "V2.2"
    # The same certificate one height lower, where version 1 runs, holds.
    below = tuple(Commit.create(s, H2 - 1, 0, digest, root) for s in signers)
    check_certified(CommitCertificate(H2 - 1, 0, digest, root, below), validators)
    with pytest.raises(ProtocolViolation) as refused:
        check_certified(good, validators, activation=H2 + 1)
    assert refused.value.rule_id == "V2.2"


@pytest.mark.req("R8.3", "R8.6", "V2.7")
def test_the_monitor_counts_the_commits_of_each_certificate_it_committed_with() -> None:
    """Broadcast mode has no collector to send a node certificates: the COMMITs a node counts
    at version-2 heights are the bitmap members of the certificates it committed with."""
    sim = Simulation(
        SimConfig(validators=4, heights=5, seed=7, mode="broadcast", protocol_v2_height=2)
    )
    sim.run()
    commits = [r.committed for r in sim.engine.commits if r.node == 0]
    assert [c.height for c in commits] == [1, 2, 3, 4, 5]
    monitor = NodeMonitor(sim.ids[0], sim.validators)
    monitor.on_outputs(commits)
    expected = dict.fromkeys(sim.ids, 0)
    for committed in commits[1:]:  # height 1 runs version 1: its votes are not counted here
        assert committed.certificate.v2 is not None
        for member in certificate_members(committed.certificate, sim.validators):
            expected[member] += 1
    assert _counted(monitor, sim.validators) == expected
    assert sum(expected.values()) >= 3 * 4
    active = {m for m, n in expected.items() if n} | set(commits[0].certificate.members)
    assert set(monitor.get_health().active_validators) == active


def test_a_genesis_naming_h2_only_in_its_set_is_written_back_unchanged(
    homes: list[Home], tmp_path: Path
) -> None:
    """V2.1 lets the version-2 set's ``first_height`` name H2 alone; a home written from such a
    genesis keeps its bytes (its chain id), and the node runs version 2 from that height."""
    genesis = {
        k: v for k, v in _read(homes[0].path / GENESIS_FILE).items() if k != "protocol_v2_height"
    }
    chain = parse_chain_spec(genesis)
    assert chain.protocol_v2_height is None and chain.activation == H2
    assert [chain.version_of(h) for h in (H2 - 1, H2)] == [1, 2]
    assert chain.to_json() == genesis
