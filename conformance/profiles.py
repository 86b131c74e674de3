"""Hypothesis profiles shared by tests/ and the conformance suite (its state machines included).

* ``ci`` (default): quick, derandomized so a run is reproducible; for every commit.
* ``thorough``: many thousands of examples with a saved example database under
  ``.hypothesis/`` so a failure found at night replays the next morning.

Pick one with ``HYPOTHESIS_PROFILE=thorough`` (or pytest's ``--hypothesis-profile``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

_registered = False


def register_profiles() -> None:
    """Register the profiles once and load the one named by ``HYPOTHESIS_PROFILE``."""
    global _registered
    if not _registered:
        settings.register_profile(
            "ci",
            max_examples=50,
            deadline=None,
            derandomize=True,
            database=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        settings.register_profile(
            "thorough",
            max_examples=5_000,
            stateful_step_count=100,
            deadline=None,
            database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        _registered = True
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
