"""Stake-weighted PBFT: the sans-IO consensus core (spec/consensus.md)."""
