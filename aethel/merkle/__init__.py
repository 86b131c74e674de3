"""The state tree: a compressed sparse Merkle tree, its proofs, node store and node cache.

Spec: E8 (hashing, celestia smt compatible), E9 (strict proofs), N2 (logarithmic proofs),
T22.1a (batch updates), T22.1b (LRU node cache). Each name is imported from the module that
defines it (the package re-exports nothing; ``tests/test_layers.py`` keeps it so):

* :mod:`aethel.merkle.hashing`: the exact hashing conventions, ``EMPTY_HASH``, key paths;
* :mod:`aethel.merkle.tree`: ``StateTree`` (reads, batch updates, proofs, subtree roots);
* :mod:`aethel.merkle.batch`: a batch update's writes and ``DELETE``;
* :mod:`aethel.merkle.build`: the compressed subtrees a batch rebuilds, from sorted leaves;
* :mod:`aethel.merkle.nodes`: node stores (in memory, overlay) and ``Ref``;
* :mod:`aethel.merkle.cache`: the LRU node cache (T22.1b);
* :mod:`aethel.merkle.proofs`: the proof format, its strict parser and ``verify_proof``;
* :mod:`aethel.merkle.errors`: the typed errors.
"""
