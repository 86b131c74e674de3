"""The state of a node: layout and transitions, the persistent versioned store, snapshots, sync.

Spec: R3.1, R3.5, R3.6, R4.2, R4.7, R5.4, R7.1, N5. Each name is imported from the module that
defines it (the package re-exports nothing; ``tests/test_layers.py`` keeps it so):

* :mod:`aethel.state.store`: ``StateStore``, persistence and committed heights (R5.4);
* :mod:`aethel.state.transitions`: the state operations and ``compute_transition`` (R3.6, R4.7);
* :mod:`aethel.state.layout`: the keys of the state (``balance:``, ``nonce:``, ``stake:``, ...);
* :mod:`aethel.state.audit`: the supply books;
* :mod:`aethel.state.snapshot` and :mod:`aethel.state.sync`: fast sync from peers (R3.1, R3.5);
* :mod:`aethel.state.errors`: the typed errors.
"""
