"""The client API of a running validator: typed answers to everything, hostile input included.

Every refusal is a 4xx with ``{"error": {"rule", "type", "detail"}}`` naming the rule (never a
500, never a dropped node), and the node keeps committing. The queries answer what the chain
holds; a balance comes with a state proof a client verifies against a certified root.
"""

from __future__ import annotations

import json
import random
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aethel.encoding import KeyPair, to_hex
from aethel.errors import ProtocolViolation
from aethel.node.api import MAX_BODY_BYTES
from aethel.node.client import verify_account_answer
from aethel.node.home import load_home
from aethel.proofs.judge import Judge
from aethel.proofs.model import Outcome, ProofKind, sign_proof, sign_transfer

from .conftest import Solo

JUDGE = Judge(KeyPair.generate(random.Random(1618)))


def request(
    url: str, method: str = "GET", body: bytes | None = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """Return (status, parsed JSON body, or the text for non-JSON answers)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            status, data, kind = answer.status, answer.read(), answer.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        status, data, kind = exc.code, exc.read(), exc.headers.get_content_type()
    return status, json.loads(data) if kind == "application/json" else data.decode()


def post(solo: Solo, path: str, value: Any) -> tuple[int, Any]:
    return request(solo.url + path, "POST", json.dumps(value).encode())


def refused(answer: tuple[int, Any], status: int, rule: str) -> None:
    code, body = answer
    assert code == status, answer
    assert body["error"]["rule"] == rule, body
    assert body["error"]["type"] and body["error"]["detail"], body


def accounts(solo: Solo) -> list[KeyPair]:
    return solo.testnet.accounts()


def account_of(solo: Solo, key: KeyPair) -> dict[str, Any]:
    status, body = request(f"{solo.url}/accounts/{to_hex(key.public_key)}")
    assert status == 200, body
    return dict(body)


def signed(solo: Solo, amount: int, nonce_offset: int = 0, index: int = 0) -> dict[str, Any]:
    keys = accounts(solo)
    sender, receiver = keys[index], keys[(index + 1) % len(keys)]
    state = account_of(solo, sender)
    nonce = state["nonce"] + nonce_offset
    tx = sign_transfer(sender, receiver=receiver.public_key, amount=amount, nonce=nonce)
    proof = JUDGE.prove_transfer(tx, state["balance"], state["nonce"] + nonce_offset)
    return {"transfer": tx.to_json(), "proof": proof.to_json()}


def wait_height(solo: Solo, height: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while solo.height() < height:
        assert time.monotonic() < deadline, f"height {height} not reached"
        time.sleep(0.05)


@pytest.mark.req("R5.5", "R7.1", "R1.1", "R8.6")
def test_a_signed_transfer_with_its_proof_is_admitted_and_committed(solo: Solo) -> None:
    keys = accounts(solo)
    before = account_of(solo, keys[2])
    body = signed(solo, 25, index=2)
    status, answer = post(solo, "/transfers", body)
    assert status == 202 and answer["status"] == "pending", answer
    status, found = request(f"{solo.url}/transactions/{answer['transaction_id']}?wait_ms=20000")
    assert status == 200 and found["status"] == "committed", found
    status, block = request(f"{solo.url}/blocks/{found['height']}")
    assert status == 200 and body["transfer"] in block["block"]["transactions"]
    status, certificate = request(f"{solo.url}/certificates/{found['height']}")
    assert certificate["certificate"] == block["certificate"]
    wait_height(solo, found["height"])
    after = account_of(solo, keys[2])
    assert after["nonce"] == before["nonce"] + 1
    assert after["balance"] == before["balance"] - 25
    # Submitting it again changes nothing: the chain already used the nonce (R7.1).
    refused(post(solo, "/transfers", body), 422, "R7.1")


@pytest.mark.req("R5.1")
def test_a_transfer_without_a_proof_is_proved_by_the_node(solo: Solo) -> None:
    body = signed(solo, 3, index=3)
    del body["proof"]
    status, answer = post(solo, "/transfers", body)
    assert status == 202, answer
    status, found = request(f"{solo.url}/transactions/{answer['transaction_id']}?wait_ms=20000")
    assert found["status"] == "committed", found


@pytest.mark.req("R3.2", "R2.3", "R7.5")
def test_a_balance_comes_with_a_state_proof_the_client_verifies(solo: Solo) -> None:
    validators = load_home(solo.testnet.nodes[0].home).chain.validators
    answer = account_of(solo, accounts(solo)[1])
    verified = verify_account_answer(answer, validators)
    assert (verified.balance, verified.nonce) == (answer["balance"], answer["nonce"])
    assert verified.balance > 0
    lie = {**answer, "balance": answer["balance"] + 1}
    with pytest.raises(ProtocolViolation, match="E9"):
        verify_account_answer(lie, validators)
    other = account_of(solo, accounts(solo)[0])
    swapped = {**answer, "proofs": other["proofs"]}
    with pytest.raises(ProtocolViolation, match="E9"):
        verify_account_answer(swapped, validators)
    votes = answer["certificate"]["votes"]
    forged = {**answer, "certificate": {**answer["certificate"], "votes": votes[:0]}}
    with pytest.raises(ProtocolViolation):
        verify_account_answer(forged, validators)


def _forged_signature(value: dict[str, Any]) -> dict[str, Any]:
    signature = value["signature"]
    return {**value, "signature": ("0" if signature[0] != "0" else "1") + signature[1:]}


@pytest.mark.req("R5.5", "R7.1", "N6", "E2", "E4", "E5", "E12")
@pytest.mark.rejects("R5.5", "R7.1", "N6", "E2", "E4", "E5", "E12")
def test_hostile_submissions_get_typed_refusals_and_change_nothing(solo: Solo) -> None:
    base = signed(solo, 10)
    transfer, proof = base["transfer"], base["proof"]
    raw = solo.url + "/transfers"
    refused(request(raw, "POST", b"{not json"), 400, "E4")
    refused(request(raw, "POST", b"[1, 2]"), 400, "E12")
    refused(request(raw, "POST", b'{"transfer": {}, "transfer": {}}'), 400, "E4")
    refused(request(raw, "POST", b'{"transfer": NaN}'), 400, "E2")
    refused(request(raw, "POST", b"\xff\xfe\x00"), 400, "E4")
    refused(request(raw, "POST", b"[" * 100_000), 400, "E4")
    refused(post(solo, "/transfers", {"proof": proof}), 400, "E12")
    refused(post(solo, "/transfers", {**base, "extra": 1}), 400, "E12")
    for amount in ("10", 10.5, -1, 2**80, None, [10]):
        status, body = post(
            solo, "/transfers", {**base, "transfer": {**transfer, "amount": amount}}
        )
        assert status == 400 and body["error"]["rule"].startswith("E"), (amount, body)
    bad_sender = {**base, "transfer": {**transfer, "sender": "zz" * 32}}
    assert post(solo, "/transfers", bad_sender)[0] == 400
    refused(request(raw, "POST", b" " * (MAX_BODY_BYTES + 1)), 413, "N6")
    refused(
        post(solo, "/transfers", {**base, "transfer": _forged_signature(transfer)}), 422, "R5.5"
    )
    refused(post(solo, "/transfers", {**base, "proof": _forged_signature(proof)}), 422, "R5.5")
    refused(post(solo, "/transfers", signed(solo, 10, nonce_offset=5)), 422, "R7.1")
    keys = accounts(solo)
    overdraft = sign_transfer(
        keys[0],
        receiver=keys[1].public_key,
        amount=10**15,
        nonce=account_of(solo, keys[0])["nonce"],
    )
    refused(post(solo, "/transfers", {"transfer": overdraft.to_json()}), 422, "R7.1")
    refused(request(solo.url + "/proofs", "POST", b"{}"), 400, "E12")
    status, pending = request(f"{solo.url}/status")
    assert pending["mempool"]["transactions"] == 0, pending


def _smt_proof(text: str) -> dict[str, Any]:
    proof = sign_proof(
        JUDGE.key,
        kind=ProofKind.GENERIC,
        smt=text,
        claimed=Outcome.UNSAT,
        budget=JUDGE.budget,
        subjects=(),
    )
    return {"proof": proof.to_json()}


HOSTILE_SMT = [
    "(" * 10_000,
    "(assert (= x 1)",
    "(declare-const x Int)(check-sat)(get-model)",
    "(declare-const x Int)(assert (> x 1e5))",
    "(set-option :timeout 0)",
    "x" * 70_000,
    "(declare-fun f (Int) Int)(assert (forall ((y Int)) (= (f y) (f (+ y 1)))))",
    "(assert ((! x (x) :named)))",
]


@pytest.mark.req("N6", "R1.5")
@pytest.mark.rejects("N6")
@pytest.mark.parametrize("text", HOSTILE_SMT, ids=range(len(HOSTILE_SMT)))
def test_a_proof_text_that_trips_a_parser_is_a_typed_refusal(solo: Solo, text: str) -> None:
    status, body = post(solo, "/proofs", _smt_proof(text))
    assert status in (400, 422), body
    assert body["error"]["rule"], body


@pytest.mark.req("E2", "E5", "R3.1")
@pytest.mark.rejects("E2", "E5")
def test_hostile_queries_get_typed_answers(solo: Solo) -> None:
    refused(request(f"{solo.url}/blocks/abc"), 400, "E2")
    refused(request(f"{solo.url}/blocks/-1"), 400, "E2")
    refused(request(f"{solo.url}/blocks/{'9' * 40}"), 400, "E2")
    refused(request(f"{solo.url}/blocks/99999999"), 404, "R3.1")
    refused(request(f"{solo.url}/blocks/1?wait_ms=99999999"), 400, "E2")
    refused(request(f"{solo.url}/accounts/xyz"), 400, "E5")
    refused(request(f"{solo.url}/accounts/{'AB' * 32}"), 400, "E5")
    refused(request(f"{solo.url}/transactions/{'00' * 31}"), 400, "E5")
    refused(request(f"{solo.url}/transactions/{'00' * 32}"), 404, "R7.1")
    refused(request(f"{solo.url}/headers?from=x&to=2"), 400, "E2")
    status, body = request(f"{solo.url}/nowhere")
    assert status == 404 and body["error"]["type"] == "HTTPNotFound", body
    status, body = request(f"{solo.url}/transfers")
    assert status == 405 and "error" in body, body


@pytest.mark.req("N6")
def test_garbage_and_half_requests_on_the_api_port_leave_the_node_serving(solo: Solo) -> None:
    host, port = solo.url.removeprefix("http://").rsplit(":", 1)
    height = solo.height()
    for payload in (
        b"\x00\xff" * 500,
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\n\r\nab",
    ):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(5)
            try:
                sock.recv(4096)
            except TimeoutError:
                pytest.fail("the API neither answered nor closed a garbage connection")
    silent = socket.create_connection((host, int(port)), timeout=5)  # connects, says nothing
    try:
        status, _ = request(f"{solo.url}/status")
        assert status == 200
        wait_height(solo, height + 2)
    finally:
        silent.close()


@pytest.mark.req("R8.1", "R8.2", "R8.6")
def test_metrics_parse_and_the_health_view_is_served(solo: Solo) -> None:
    status, text = request(f"{solo.url}/metrics")
    assert status == 200
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name in ("aethel_height", "aethel_mempool_size", "aethel_node_peers_connected"):
        assert name in families, sorted(families)
    height = next(s.value for s in families["aethel_height"].samples)
    assert height >= 1
    status, health = request(f"{solo.url}/health")
    assert status == 200 and health["height"] >= 1
    assert set(health) >= {"active_validators", "consensus_latency_ns", "mempool", "status"}
    status, supply = request(f"{solo.url}/supply")
    assert supply["balanced"] is True, supply
    status, node = request(f"{solo.url}/status")
    assert node["id"] == "v000" and node["height"] >= 1 and node["root"]
    # NODE.md's optional timeout base (the liveness bound reads it): timeout(latency, 0), >= 4 s.
    latency = node["replica"]["stats"]["observed_latency_ns"]
    assert node["timeout_base_ms"] == max(4000.0, 4 * latency / 1e6), node


@pytest.mark.req("R7.1")
def test_admission_reads_an_account_once_per_committed_root(solo: Solo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The node keeps the accounts it read for admission until its committed root moves: a
    second read at the same root reads no state, and after a commit the answer is the new
    state's (a stale answer would admit the same nonce twice, R7.1)."""
    node = solo.runtime.node
    key = accounts(solo)[1]
    reads: list[bytes] = []
    original = type(node).state

    def counted(self: Any) -> Any:
        reads.append(self.ledger.store.root)
        return original(self)

    monkeypatch.setattr(type(node), "state", counted)

    async def twice() -> tuple[bytes, Any, Any, tuple[int, int]]:
        # One turn of the node's loop: no commit can fall between these reads.
        first, second = node.account(key.public_key), node.account(key.public_key)
        state, account = original(node), to_hex(key.public_key)
        return node.ledger.store.root, first, second, (state.balance(account), state.nonce(account))

    reads.clear()
    root, before, again, fresh = solo.call(twice())
    assert again == before and (before.balance, before.nonce) == fresh
    assert reads.count(root) <= 1  # read at most once at this root (none if read earlier)
    status, answer = post(solo, "/transfers", signed(solo, 7, index=1))
    assert status == 202, answer
    status, found = request(f"{solo.url}/transactions/{answer['transaction_id']}?wait_ms=20000")
    assert found["status"] == "committed", found
    wait_height(solo, found["height"])
    moved, after, _, fresh = solo.call(twice())
    assert moved != root and (after.balance, after.nonce) == fresh
    assert (after.balance, after.nonce) == (before.balance - 7, before.nonce + 1)
