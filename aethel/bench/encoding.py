"""Canonical JSON, SHA-256 and Ed25519 costs: the floor under every other number (E1, E6, E7)."""

from __future__ import annotations

import random

from aethel.bench import Result, timed
from aethel.encoding import (
    Domain,
    KeyPair,
    canonical_json,
    parse_canonical_json,
    sha256,
    signing_bytes,
    verify_signature_bytes,
)

DESCRIPTION = "canonical JSON encode/parse, SHA-256, Ed25519 sign/verify per operation"


def _prepare_message(index: int) -> dict[str, object]:
    return {
        "type": "prepare",
        "height": 1000 + index,
        "view": 0,
        "digest": sha256(index.to_bytes(8, "big")).hex(),
        "validator": f"v{index:05d}",
    }


def run(quick: bool) -> list[Result]:
    count = 2_000 if quick else 20_000
    messages = [_prepare_message(i) for i in range(count)]
    encoded = [canonical_json(m) for m in messages]
    key = KeyPair.generate(random.Random(7))
    payloads = [signing_bytes(Domain.PREPARE, m) for m in messages[: count // 4]]
    signatures = [key.sign_bytes(p) for p in payloads]
    small = b"\x01" + bytes(64)

    def encode_all() -> None:
        for message in messages:
            canonical_json(message)

    def parse_all() -> None:
        for data in encoded:
            parse_canonical_json(data)

    def hash_all() -> None:
        for _ in range(count):
            sha256(small)

    def sign_all() -> None:
        for payload in payloads:
            key.sign_bytes(payload)

    def verify_all() -> None:
        for payload, signature in zip(payloads, signatures, strict=True):
            if not verify_signature_bytes(key.public_key, payload, signature):
                raise AssertionError("a valid signature failed to verify")

    per_us = 1e6
    return [
        Result("canonical_json_encode_us", timed(encode_all, repeat=3) / count * per_us, "us"),
        Result("canonical_json_parse_us", timed(parse_all, repeat=3) / count * per_us, "us"),
        Result("sha256_node_us", timed(hash_all, repeat=3) / count * per_us, "us"),
        Result("ed25519_sign_us", timed(sign_all) / len(payloads) * per_us, "us"),
        Result("ed25519_verify_us", timed(verify_all) / len(payloads) * per_us, "us"),
    ]
