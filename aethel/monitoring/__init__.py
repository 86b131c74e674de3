"""Monitoring: per-height metrics, mempool metrics, accuracy alerts, rewards, health (R8)."""
