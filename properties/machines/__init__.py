"""Hypothesis state machines that drive an implementation beside a simple executable model.

Each machine talks to the implementation only through the conformance adapter's capability
objects (``conformance/adapters/api.py``), so the same machine runs against the reference, a
Python implementation or a subprocess implementation alike. ``make_*_machine(factory)``
returns a machine class bound to a capability factory; its ``TestCase`` runs under pytest and
:func:`~properties.machines.common.run_machine` runs it directly (as the mutant tests do).

The consensus machine drives a cluster (:mod:`properties.machines.cluster`) whose honest
validators run either reference replicas in process or an implementation's replicas behind the
adapter's ``replica`` capability.
"""
