"""Repository-wide pytest set-up: Hypothesis profiles (see conformance/profiles.py)."""

from conformance.profiles import register_profiles

register_profiles()
