"""The Aethel conformance suite: checks any implementation of the protocol, rule by rule."""

__version__ = "0.1.0"
