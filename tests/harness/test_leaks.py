"""The ghost leak and link scans (conformance/leaks.py) and the transcript they read."""

from __future__ import annotations

import base64
import json
import random
import shlex
import sys

import pytest

from aethel.proofs.ghost import GhostHolder, derive_one_time_seed
from aethel.proofs.model import ProofKind
from conformance.adapters.stdio import RemoteObject, StdioImplementation
from conformance.leaks import find_leaks, find_links, ghost_needles, text_forms
from conformance.protocol.commands import COMMANDS

SECRET = random.Random(7).randbytes(32)


@pytest.mark.parametrize("before", range(6))
def test_base64_of_the_secret_is_found_inside_a_longer_blob(before: int) -> None:
    blob = random.Random(before).randbytes(before) + SECRET + b"tail"
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(blob).decode()
        assert any(form in text for form in text_forms(SECRET)), (before, encode)


@pytest.mark.parametrize(
    "leak",
    [
        pytest.param(SECRET.hex(), id="hex"),
        pytest.param(SECRET.hex().upper(), id="upper-hex"),
        pytest.param(repr(SECRET), id="bytes-repr"),
        pytest.param(json.dumps(list(SECRET)), id="byte-list"),
        pytest.param(derive_one_time_seed(SECRET, 3).hex(), id="one-time-seed"),
    ],
)
def test_each_form_of_the_secret_or_a_seed_is_found(leak: str) -> None:
    found = find_leaks([("stderr", f"debug: {leak} ok")], ghost_needles(SECRET, 4))
    assert found and found[0].endswith("in stderr")


def test_unrelated_output_and_public_keys_are_not_leaks() -> None:
    holder = GhostHolder(SECRET)
    public = [holder.next_key().public_key.hex() for _ in range(4)]
    other = random.Random(8).randbytes(32)
    text = " ".join([*public, other.hex(), base64.b64encode(other).decode()])
    assert find_leaks([("responses", text)], ghost_needles(SECRET, 4)) == []


def _proofs(holder: GhostHolder, count: int) -> list[tuple[dict[str, object], str]]:
    out = []
    for i in range(count):
        proof = holder.sign_proof(
            kind=ProofKind.TRANSFER, smt=f"(assert (= {i} {i}))", budget=1_000
        )
        out.append((proof.to_json(), proof.proof_id.hex()))
    return out


def test_reference_ghost_proofs_are_not_linked_but_a_reused_key_is() -> None:
    assert find_links(_proofs(GhostHolder(SECRET), 5)) == []
    first, second = _proofs(GhostHolder(SECRET), 1) + _proofs(GhostHolder(SECRET), 1)
    links = find_links([first, second])  # a restarted counter reuses the one-time key
    assert any("submitter" in link for link in links)


def test_an_extra_member_derived_from_the_holder_links_proofs() -> None:
    proofs = _proofs(GhostHolder(SECRET), 2)
    tagged = [({**proof, "tag": "holder-7f3a9c"}, pid) for proof, pid in proofs]
    assert any("tag" in link for link in find_links(tagged))


class _Owner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object], str | None]] = []

    def call(self, command: object, params: dict[str, object], handle: str | None = None) -> str:
        self.calls.append((command.name, params, handle))  # type: ignore[attr-defined]
        return "ok"


def test_a_replica_handle_takes_the_monitoring_method() -> None:
    owner = _Owner()
    replica = RemoteObject(owner, "replica", "h4")  # type: ignore[arg-type]
    assert replica.metrics() == "ok"
    assert owner.calls == [("monitoring.metrics", {}, "h4")]
    assert COMMANDS["monitoring.metrics"].target == "replica"
    with pytest.raises(AttributeError):
        RemoteObject(owner, "mempool", "h5").metrics  # type: ignore[arg-type]  # noqa: B018


def test_transcript_and_stderr_peek_keep_what_the_process_emitted() -> None:
    program = (
        "import sys; print('note on stderr', file=sys.stderr, flush=True); "
        "from conformance.protocol.cli import serve_reference_command as s; s()"
    )
    impl = StdioImplementation(f"{shlex.quote(sys.executable)} -P -c {shlex.quote(program)}")
    try:
        impl.transcript = []
        assert impl.api("encoding").canonical_json({"a": 1}) == b'{"a":1}'.hex()
        assert len(impl.transcript) == 1 and '"ok":true' in impl.transcript[0]
        assert "note on stderr" in impl.peek_stderr()
        assert "note on stderr" in impl.peek_stderr()  # peeking leaves it for the report
        assert "note on stderr" in impl.drain_diagnostics()["stderr"]
    finally:
        impl.close()
