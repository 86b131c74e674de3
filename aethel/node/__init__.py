"""The node layer: what runs the sans-IO consensus core as a validator.

Layers, lowest first: encoding < merkle < state and proofs < consensus core < node < sim <
conformance. The consensus core (:mod:`aethel.consensus`) decides and returns instructions; it
imports nothing from here (``tests/test_layers.py`` enforces it). This package carries the
instructions out, for every environment that runs replicas:

* :mod:`aethel.node.shell`: the one shell that routes a replica's outputs to a host (the
  simulator's engine, the FIFO clusters, the state machines and the TCP node all use it);
* :mod:`aethel.node.virtual`: a FIFO network with timers on demand, for exact tests;
* :mod:`aethel.node.mempool_source`: the leader's block source over the node's mempool;
* :mod:`aethel.node.assembly`: the validator assembled from its home (store and vote journal,
  verifier, mempool, replica, monitoring); :mod:`aethel.node.home`: the home directory;
* :mod:`aethel.node.runtime`: the asyncio process around it (the real node's host);
  :mod:`aethel.node.peers`, :mod:`aethel.node.peer_wire`, :mod:`aethel.node.handshake`: the peer
  connections; :mod:`aethel.node.api`: the client API (aiohttp);
  :mod:`aethel.node.client`: what a client verifies in its answers;
* :mod:`aethel.node.testnet`, :mod:`aethel.node.load`, :mod:`aethel.node.audit`,
  :mod:`aethel.node.chaos`, :mod:`aethel.node.cli`: testnets of processes, their load, their
  checks and the ``aethel node`` / ``aethel testnet`` commands.

Files, peer wire and client API: ``aethel/node/API.md``.
"""
