"""Planted bugs: small subclasses of the reference, each with one realistic defect.

They exist to show that each state machine catches a bug within the ``ci`` profile
(``tests/formal/test_machines_catch_mutants.py``). They are never used outside tests.
"""
