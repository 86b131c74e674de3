"""Proofs, the judge, the verifier and the mempool (spec/proofs.md)."""
