"""The node layer: what runs the sans-IO consensus core as a validator.

Layers, lowest first: encoding < merkle < state and proofs < consensus core < node < sim <
conformance. The consensus core (:mod:`aethel.consensus`) decides and returns instructions; it
imports nothing from here (``tests/node/test_layers.py`` enforces it). This package carries the
instructions out:

* :mod:`aethel.node.shell`: the one shell that routes a replica's outputs to a host (the
  simulator, the virtual clusters, the state machines and the TCP node all use it);
* :mod:`aethel.node.virtual`: a FIFO network with timers on demand, for exact tests;
* :mod:`aethel.node.mempool_source`: the leader's block source over the node's mempool.
"""
