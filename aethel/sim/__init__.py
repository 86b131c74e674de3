"""The deterministic discrete-event simulator around the consensus core (ARCHITECTURE.md).

One thread, an event heap keyed by (virtual time in integer ns, sequence number), one seeded RNG
per subsystem and node, the WAN-7 network model, faults, Byzantine behaviours, and checkers over
the recorded trace. Same seed and code give the same trace hash. The core never imports this.
"""
