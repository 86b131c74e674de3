"""Rosters of registered members for the version-2 tests (keys from fixed seeds)."""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.v2.roster import Registration, Roster, register
from aethel.crypto import bls
from aethel.sim.network import REGIONS


def secret(i: int) -> bls.SecretKey:
    """Return member i's BLS secret key (seed: 32 bytes of i + 1)."""
    return bls.SecretKey.from_seed(bytes([i + 1]) * 32)


def make_roster(stakes: Sequence[int]) -> Roster:
    """Register members v00, v01, ... with these stakes; member i in WAN-7 region i mod 7."""
    registrations = []
    for i, stake in enumerate(stakes):
        key = secret(i)
        registrations.append(
            Registration(
                f"v{i:02d}",
                stake,
                key.public_key().data,
                key.prove_possession().data,
                REGIONS[i % len(REGIONS)],
            )
        )
    return register(registrations)
