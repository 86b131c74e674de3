"""Validator-set parsers that let an invalid set through (spec/consensus.md, "Validator set and
epochs": "A set is invalid if it is empty, repeats an id or a public key, or lists a stake below
MIN_STAKE"; ids are short lowercase names), each a check an outsider leaves out:

* ``validator-set-repeated-key-accepted``: ids must be distinct, public keys need not be, so one
  signer holds two members' votes;
* ``validator-id-unchecked``: any string is an id (uppercase, a leading dash, 65 characters).

Caught by conformance/suite/test_replica.py::test_a_validator_set_of_another_form_is_refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any
from unittest import mock

import aethel.consensus.validators
from aethel.consensus.validators import ValidatorSet
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import Mutant, replica_implementation

_checked_build = ValidatorSet._build.__func__  # type: ignore[attr-defined]


def _build_without_key_check(cls: type[ValidatorSet], *args: Any, **kwargs: Any) -> ValidatorSet:
    """Defect: the members are checked with a distinct stand-in key each, so a key that two
    members share passes; the set keeps the keys it was given."""
    epoch, seed, members, *rest = args
    stand_ins = [replace(m, public_key=hashlib.sha256(m.id.encode()).digest()) for m in members]
    built: ValidatorSet = _checked_build(cls, epoch, seed, stand_ins, *rest, **kwargs)
    return replace(built, validators=tuple(members))


class RepeatedKeyObject(ReferenceReplicaObject):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with mock.patch.object(ValidatorSet, "_build", classmethod(_build_without_key_check)):
            super().__init__(*args, **kwargs)


class AnyIdObject(ReferenceReplicaObject):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        anything = re.compile(r"(?s).+")
        with mock.patch.object(aethel.consensus.validators, "VALIDATOR_ID_PATTERN", anything):
            super().__init__(*args, **kwargs)


RepeatedKeyAccepted = replica_implementation(
    "RepeatedKeyAccepted", __name__, base=RepeatedKeyObject
)
ValidatorIdUnchecked = replica_implementation("ValidatorIdUnchecked", __name__, base=AnyIdObject)

MUTANTS = [
    Mutant(
        name="validator-set-repeated-key-accepted",
        defect="a validator set whose members share a public key is accepted (only ids must be "
        "distinct): one signer holds two members' votes",
        breaks=("R4.3",),
        capabilities=("replica",),
        build=RepeatedKeyAccepted,
    ),
    Mutant(
        name="validator-id-unchecked",
        defect="any string is a validator id: uppercase letters, a leading dash or 65 "
        "characters are accepted",
        breaks=("R4.3",),
        capabilities=("replica",),
        build=ValidatorIdUnchecked,
    ),
]
