"""The node contract's harness side (NODE.md): templates, homes, --impl and --mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from aethel.node.home import load_home
from conformance.network.cli import parse_impl, parse_mix
from conformance.network.contract import (
    REFERENCE_COMMAND,
    ContractError,
    NodeSlot,
    check_template,
    expand,
    make_chain,
    write_homes,
)
from conformance.network.nemesis import NEMESES, make_schedule, parse_nemeses


def slot(tmp_path: Path, template: str) -> NodeSlot:
    return NodeSlot(
        "v000",
        0,
        tmp_path / "node-0",
        4100,
        4101,
        {"v001": "127.0.0.1:5001", "v002": "127.0.0.1:5002"},
        template,
        "impl",
    )


def test_placeholders_fill_words_without_a_shell(tmp_path: Path) -> None:
    template = "my-node --home {home} --listen {peer_listen} --peers {peers} --x '{id} y'"
    words = slot(tmp_path, template).command()
    assert words == [
        "my-node",
        "--home",
        str(tmp_path / "node-0"),
        "--listen",
        "127.0.0.1:4100",
        "--peers",
        "v001=127.0.0.1:5001,v002=127.0.0.1:5002",
        "--x",
        "v000 y",
    ]


@pytest.mark.parametrize("template", ["", "node {nope}", "node {home", "node 'unclosed"])
def test_bad_templates_are_refused_before_anything_starts(template: str) -> None:
    with pytest.raises(ContractError):
        check_template(template)


def test_impl_and_mix_arguments() -> None:
    assert parse_impl("reference") == REFERENCE_COMMAND
    assert parse_impl("node:./n --home {home}") == "./n --home {home}"
    for bad in ("stdio:./n", "node:./n {what}"):
        with pytest.raises(ContractError):
            parse_impl(bad)
    assert parse_mix("reference:3", 4) == 3 and parse_mix(None, 4) == 0
    for bad in ("reference:5", "other:1", "reference:x"):
        with pytest.raises(ContractError):
            parse_mix(bad, 4)


def test_homes_are_reference_homes_that_point_at_the_proxy(tmp_path: Path) -> None:
    setup = make_chain(3, 2, seed=5)
    assert setup.ids == ["v000", "v001", "v002"]
    slots = [
        NodeSlot(
            node,
            i,
            tmp_path / f"node-{i}",
            6000 + 2 * i,
            6001 + 2 * i,
            {p: f"127.0.0.1:{7000 + 10 * i + j}" for j, p in enumerate(setup.ids) if p != node},
            REFERENCE_COMMAND,
            "reference",
        )
        for i, node in enumerate(setup.ids)
    ]
    write_homes(setup, slots)
    for s in slots:
        home = load_home(s.home)
        assert home.config.peers == s.peers  # the proxy's addresses, not the peers' ports
        assert home.config.api_listen == f"127.0.0.1:{s.api_port}"
        assert home.chain.chain_id == setup.chain.chain_id
    assert expand(REFERENCE_COMMAND, slots[0].values())[-2:] == ["--home", str(slots[0].home)]
    assert make_chain(3, 2, seed=5).chain.chain_id == setup.chain.chain_id  # seeded


def test_a_seed_fixes_the_schedule_and_every_nemesis_comes_first() -> None:
    ids = [f"v{i:03d}" for i in range(4)]
    first = make_schedule(11, ids, NEMESES, 70.0)
    assert first == make_schedule(11, ids, NEMESES, 70.0)
    assert first != make_schedule(12, ids, NEMESES, 70.0)
    assert {f.kind for f in first[: len(NEMESES)]} == set(NEMESES)
    assert all(f.start_s + f.duration_s <= 69.0 for f in first)
    assert parse_nemeses(["partition", "kill,pause"]) == (
        "partition-bridge",
        "partition-halves",
        "partition-majority",
        "partition-one-way",
        "kill",
        "pause",
    )
    with pytest.raises(ValueError, match="unknown nemesis"):
        parse_nemeses(["flood"])
