"""Hypothesis state machines that drive an implementation beside a simple executable model.

Each machine talks to the implementation only through a driver (the adapter interface of the
component), so the same machine runs against the reference and a third-party implementation.
``make_*_machine(factory)`` returns a machine class bound to a driver factory; its ``TestCase``
runs under pytest and :func:`~properties.machines.common.run_machine` runs it directly (used to
show that a machine catches a planted bug).
"""
