"""Planted bugs: the reference with one realistic defect each.

Each module holds small subclasses of the reference with the defect and, built from them,
implementations under test (``ReferenceImplementation`` subclasses, loadable with
``--impl python:properties.mutants.<module>:<Name>Implementation``). They show that each state
machine catches a bug within the ``ci`` profile (``tests/formal/test_machines_catch_mutants.py``)
and are never used outside tests.
"""
