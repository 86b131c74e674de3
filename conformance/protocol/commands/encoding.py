"""Commands of the pure byte-level capabilities: encoding (E1-E7, N1), list-hash (E10, E11)."""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands.model import (
    ANY,
    BOOL,
    HASH,
    HEX,
    INT,
    SIGNATURE,
    STR,
    Command,
    array,
    function,
)

E = Capability.ENCODING
L = Capability.LIST_HASH

ENCODING: tuple[Command, ...] = (
    function(
        E,
        "canonical_json",
        {"value": ANY},
        HEX,
        "Return the hex of the canonical JSON encoding of value; reject a value without one.",
    ),
    function(
        E,
        "parse_canonical_json",
        {"data": STR},
        ANY,
        "Parse the bytes (hex) as canonical JSON; reject anything that is not canonical.",
    ),
    function(
        E,
        "hash_object",
        {"value": ANY},
        HASH,
        "Return SHA-256 of the canonical encoding of value (E6).",
    ),
    function(
        E,
        "public_key",
        {"seed": STR},
        HASH,
        "Return the Ed25519 public key of a 32-byte secret seed.",
    ),
    function(
        E,
        "sign",
        {"seed": STR, "domain": STR, "value": ANY},
        SIGNATURE,
        "Sign value (an object) in the named domain with the key of seed (E7).",
    ),
    function(
        E,
        "verify_signature",
        {"public_key": STR, "domain": STR, "value": ANY, "signature": STR},
        BOOL,
        "Return whether signature signs value in domain for public_key (E7, R7.5).",
    ),
)

LIST_HASH: tuple[Command, ...] = (
    function(
        L,
        "root",
        {"entries": array(ANY)},
        HASH,
        "Return the RFC 6962 Merkle tree hash of the canonical encodings of entries (E10).",
    ),
    function(
        L,
        "prove_inclusion",
        {"entries": array(ANY), "index": INT},
        array(HASH),
        "Return the RFC 9162 inclusion proof of entry index, leaf to root (E11).",
    ),
    function(
        L,
        "prove_consistency",
        {"entries": array(ANY), "size1": INT},
        array(HASH),
        "Return the RFC 9162 proof that the first size1 entries are a prefix of the list (E11).",
    ),
    function(
        L,
        "verify_inclusion",
        {
            "leaf_index": INT,
            "tree_size": INT,
            "leaf_hash": STR,
            "proof": array(STR),
            "root": STR,
        },
        BOOL,
        "Return whether proof shows leaf_hash at leaf_index in the tree of root (E11).",
    ),
    function(
        L,
        "verify_consistency",
        {"size1": INT, "size2": INT, "root1": STR, "root2": STR, "proof": array(STR)},
        BOOL,
        "Return whether proof shows the tree of root1 is a prefix of the tree of root2 (E11).",
    ),
)

#: The commands of each capability of this module.
TABLE: dict[Capability, tuple[Command, ...]] = {
    E: ENCODING,
    L: LIST_HASH,
}
