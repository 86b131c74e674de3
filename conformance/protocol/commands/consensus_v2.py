"""Commands of capability ``consensus-v2``: the pure rules of consensus protocol version 2
(spec/consensus-v2.md, V2.3-V2.10), all functions.

* the ciphersuite ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`` (V2.3): KeyGen, Sign, Verify,
  Aggregate, FastAggregateVerify, PopProve;
* what a node accepts: a public key (V2.4), a signature (V2.5), a key registered with its proof
  of possession (V2.6);
* certificates: parsing and checking one against the members of a validator set (V2.7, V2.8),
  and a collector's aggregation of votes with the search for bad ones (V2.9);
* who collects the votes of a height and view (V2.10).

The wire forms of members, targets, votes and certificates are in conformance/WIRE.md,
"Capability consensus-v2". Parameters are loosely typed on purpose (the suite sends hostile
values); results are strict.
"""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands.model import (
    ANY,
    BOOL,
    HASH,
    HEX,
    INT,
    NAT,
    NULL,
    STR,
    Command,
    Schema,
    array,
    function,
    record,
)

V2 = Capability.CONSENSUS_V2

#: A compressed G1 point (a BLS public key), 48 bytes.
PUBLIC_KEY: Schema = {"type": "string", "pattern": "^[0-9a-f]{96}$"}
#: A compressed G2 point (a BLS signature, aggregate or proof of possession), 96 bytes.
BLS_SIGNATURE: Schema = {"type": "string", "pattern": "^[0-9a-f]{192}$"}
#: A BLS secret key: a 32-byte big-endian scalar.
SECRET_KEY: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

#: A version-2 certificate (V2.7).
CERTIFICATE: Schema = record(
    {
        "type": {"enum": ["prepare-certificate", "commit-certificate"]},
        "height": NAT,
        "view": NAT,
        "digest": HASH,
        "signers": HEX,
        "aggregate": BLS_SIGNATURE,
    },
    {"post_root": HASH},
)

CONSENSUS_V2: tuple[Command, ...] = (
    # the ciphersuite (V2.3, V2.6)
    function(
        V2,
        "keygen",
        {"seed": STR, "key_info": STR},
        record({"secret_key": SECRET_KEY, "public_key": PUBLIC_KEY}),
        "Return KeyGen(seed, key_info) as a 32-byte big-endian secret key and its public key "
        "SkToPk; refuse a seed of fewer than 32 bytes (V2.3).",
    ),
    function(
        V2,
        "sign",
        {"secret_key": STR, "message": STR},
        BLS_SIGNATURE,
        "Return the ciphersuite's Sign of the message bytes; refuse a secret key that is not "
        "in [1, r) (V2.3).",
    ),
    function(
        V2,
        "prove_possession",
        {"secret_key": STR},
        BLS_SIGNATURE,
        "Return PopProve: the proof of possession of the secret key's public key (V2.6).",
    ),
    function(
        V2,
        "verify",
        {"public_key": STR, "message": STR, "signature": STR},
        BOOL,
        "Return whether the signature signs the message under the key (V2.3); a key V2.4 refuses "
        "or a signature V2.5 refuses never verifies (answer false or refuse).",
    ),
    function(
        V2,
        "aggregate",
        {"signatures": array(STR)},
        BLS_SIGNATURE,
        "Return the aggregate (sum) of one or more signatures; refuse an empty list and any "
        "signature V2.5 refuses (V2.3, V2.5).",
    ),
    function(
        V2,
        "fast_aggregate_verify",
        {"public_keys": array(STR), "message": STR, "signature": STR},
        BOOL,
        "Return FastAggregateVerify: whether the signature aggregates the signatures of the "
        "message by every key; false for no keys; a key V2.4 refuses or a signature V2.5 "
        "refuses never verifies (answer false or refuse) (V2.3).",
    ),
    # what a node accepts (V2.4-V2.6)
    function(
        V2,
        "key_validate",
        {"public_key": STR},
        PUBLIC_KEY,
        "Return the public key if a node accepts it (KeyValidate: a canonical compressed point "
        "of G1's subgroup, not the point at infinity); refuse any other naming V2.4.",
    ),
    function(
        V2,
        "signature_validate",
        {"signature": STR},
        BLS_SIGNATURE,
        "Return the signature if a node accepts it (a canonical compressed point of G2's "
        "subgroup, not the point at infinity); refuse any other naming V2.5.",
    ),
    function(
        V2,
        "register_key",
        {"public_key": STR, "proof": STR},
        PUBLIC_KEY,
        "Register a validator's key with its proof of possession and return the key; refuse a "
        "bad key naming V2.4 and a proof that is malformed or does not verify naming V2.6.",
    ),
    # certificates (V2.7-V2.9)
    function(
        V2,
        "check_certificate",
        {"members": ANY, "certificate": ANY},
        array(NAT),
        "Register the members (a version-2 validator set's members, V2.4, V2.6), parse the "
        "certificate (V2.7) and check it (V2.8); return its members' indices in set order "
        "(by id), or refuse naming the rule it breaks.",
    ),
    function(
        V2,
        "aggregate_votes",
        {"members": ANY, "target": ANY, "votes": ANY},
        {"anyOf": [NULL, CERTIFICATE]},
        "Act as the collector of one target: take the votes in order (one per validator; a vote "
        "of no member, or whose signature V2.5 refuses, counts for nothing) and return the "
        "certificate of every vote whose signature is valid if they hold q(W), else null (V2.9).",
    ),
    # the collector (V2.10)
    function(
        V2,
        "choose_collector",
        {
            "members": ANY,
            "regions": ANY,
            "latency_ms": ANY,
            "epoch_seed": STR,
            "height": INT,
            "view": INT,
            "leader": STR,
        },
        STR,
        "Return the id of the collector of (height, view) with this leader (V2.10); refuse a "
        "region table that is not square and symmetric with non-negative integers, or a member "
        "naming a region the table does not list, naming V2.10.",
    ),
)

#: The commands of each capability of this module.
TABLE: dict[Capability, tuple[Command, ...]] = {
    V2: CONSENSUS_V2,
}
