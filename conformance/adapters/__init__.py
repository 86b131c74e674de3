"""Adapters: how the suite talks to an implementation under test.

:mod:`~conformance.adapters.api` defines the interface (grouped by capability),
:mod:`~conformance.adapters.reference` implements it with the reference implementation,
:mod:`~conformance.adapters.stdio` speaks the subprocess protocol to a program in any language,
and :func:`~conformance.adapters.loader.load_implementation` turns an ``--impl`` argument into
one of them.
"""
