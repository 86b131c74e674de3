"""Proofs, the judge, the verifier and the mempool (spec/proofs.md).

Modules, one job each:

* :mod:`~aethel.proofs.model`: ``Proof`` and ``Transfer`` values, canonical encoding, ids (E6),
  signatures (E7), strict parsing;
* :mod:`~aethel.proofs.smt_text`: the accepted SMT-LIB2 subset and its limits (N6);
* :mod:`~aethel.proofs.solver`: one Z3 run in a fresh context, effort = rlimit delta (R1.4);
* :mod:`~aethel.proofs.difficulty`: the difficulty formula (R1.4, P4);
* :mod:`~aethel.proofs.verifier`: ``verify_proof`` and ``batch_verify_signatures`` (T22.2c);
* :mod:`~aethel.proofs.parallel`: ``verify_proof_block`` on any executor (T22.2a), the result
  cache (T22.2d) and ``Verifier``;
* :mod:`~aethel.proofs.judge`: obligations of transfers and the standard proof mix (R5.1);
* :mod:`~aethel.proofs.mempool`: admission, conflicts, ordering, bound, metrics (R5.5, R6.3,
  R7.1, R8.2);
* :mod:`~aethel.proofs.ghost`: one-time ghost keys (R5.3).

The block's ordered lists are hashed by :mod:`aethel.rfc6962` (E10, E11).
"""
