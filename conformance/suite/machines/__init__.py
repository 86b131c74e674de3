"""Hypothesis state machines that drive an implementation beside a simple executable model.

Each machine talks to the implementation only through the conformance adapter's capability
objects (``conformance/adapters/api.py``), so the same machine runs against the reference, a
Python implementation or a subprocess implementation alike. ``make_*_machine(factory)``
returns a machine class bound to a capability factory; the suite's cases
(``conformance/suite/test_machines.py``) bind it to the implementation under test through the
suite's fixtures and run it with :func:`~conformance.suite.machines.common.run_machine`, so each
machine's verdict is a case of ``aethel-conformance run`` with its rule IDs in the report.

The consensus machine drives a cluster (:mod:`conformance.suite.machines.cluster`) whose honest
validators run either reference replicas in process or an implementation's replicas behind the
adapter's ``replica`` capability.
"""
