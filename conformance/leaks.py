"""Find a ghost holder's secret, or what links its proofs, in what an implementation emitted.

Spec: R5.3, P22. The suite gives the implementation a holder secret and asks for ghost proofs,
then scans everything the implementation emitted during the case (every response, its standard
error and, in process, its standard output and log records) for:

* the secret and everything as good as the secret: the HKDF pseudorandom key and the one-time
  seeds the spec's derivation gives (HKDF-SHA256, salt ``aethel/ghost/v1``, info
  ``aethel/ghost/key/v1`` || n), in hex (either case), base64 (standard and URL-safe, at every
  byte alignment), Python's bytes repr, byte lists and raw text;
* links between two ghost proofs of one holder: a public value (submitter key, signature, proof
  id, or any member the suite did not choose) of one proof found anywhere in another.

An implementation free to derive its one-time keys another way (the derivation is local to the
holder) is still scanned for its secret and for links; only the seed forms are the spec's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aethel.proofs.ghost import INFO, SALT, derive_one_time_seed

#: Members of a proof whose values the suite chose (the obligation itself).
CHOSEN_MEMBERS = frozenset({"kind", "smt", "claimed", "budget", "subjects", "ghost"})
#: One-time seeds scanned for beyond the number of proofs asked for.
EXTRA_SEEDS = 64


def _base64_pieces(data: bytes) -> list[str]:
    """Return the base64 text that ``data`` yields wherever it sits in a longer byte stream."""
    pieces = []
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(bytes(offset) + data).decode("ascii")
            first = -(-8 * offset // 6)  # the first character made of data bits only
            last = 8 * (offset + len(data)) // 6  # characters made of data bits only
            pieces.append(text[first:last])
    return pieces


def text_forms(data: bytes) -> list[str]:
    """Return every textual form of ``data`` that an output could carry."""
    forms = [data.hex(), data.hex().upper(), repr(data), str(list(data)), json.dumps(list(data))]
    forms += _base64_pieces(data)
    forms.append(data.decode("latin-1"))
    return [f for f in dict.fromkeys(forms) if len(f) >= 16]


@dataclass(frozen=True, slots=True)
class Needle:
    """One secret value under a name, with its textual forms."""

    name: str
    forms: tuple[str, ...]


def ghost_needles(secret: bytes, proofs: int) -> list[Needle]:
    """Return the secret and what is as good as it: its HKDF key and the first one-time seeds."""
    prk = hmac.new(SALT, secret, hashlib.sha256).digest()
    needles = [
        Needle("the holder secret", tuple(text_forms(secret))),
        Needle("the HKDF key of the secret", tuple(text_forms(prk))),
    ]
    for n in range(proofs + EXTRA_SEEDS):
        seed = derive_one_time_seed(secret, n)
        needles.append(
            Needle(f"one-time seed {n} ({INFO.decode()} || {n})", tuple(text_forms(seed)))
        )
    return needles


def find_leaks(emitted: Iterable[tuple[str, str]], needles: Sequence[Needle]) -> list[str]:
    """Return ``"<needle> in <where>"`` for every needle found in the ``(where, text)`` items."""
    found = []
    for where, text in emitted:
        for needle in needles:
            if any(form in text for form in needle.forms):
                found.append(f"{needle.name} in {where}")
    return found


def public_values(proof: Mapping[str, Any], proof_id: str) -> dict[str, str]:
    """Return the proof's public values that the holder, not the suite, produced."""
    values = {"proof id": proof_id}
    for name, value in proof.items():
        if name in CHOSEN_MEMBERS:
            continue
        values[name] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return values


def find_links(proofs: Sequence[tuple[Mapping[str, Any], str]]) -> list[str]:
    """Return every public value of one ghost proof found in another of the same holder (P22).

    ``proofs`` are (proof JSON, proof id) pairs of one holder.
    """
    links = []
    texts = [json.dumps(proof, sort_keys=True) for proof, _ in proofs]
    for i, (proof, proof_id) in enumerate(proofs):
        for name, value in public_values(proof, proof_id).items():
            if len(value) < 8:
                continue
            for j, text in enumerate(texts):
                if j != i and value in text:
                    links.append(f"the {name} of ghost proof {i} appears in ghost proof {j}")
    return links
