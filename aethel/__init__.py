"""Aethel: the reference implementation of the Proof-of-Proof consensus protocol.

The rule IDs cited throughout (R*, N*, T22.*, E*, P*, I*) are defined in ``spec/`` and listed
by ``aethel-conformance spec list``.
"""

__version__ = "0.1.0"
#: Version of the protocol this implementation speaks. The pinned z3-solver version is part of
#: it (N7): effort counts, hence difficulty and rewards, depend on the solver build.
PROTOCOL_VERSION = "aethel/1+z3-4.15.4"
