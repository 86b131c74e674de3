"""LOCAL SHIMS: drivers over the reference API, until the conformance adapter has the capability.

The machines are written against small driver protocols in the adapter's JSON style (hashes as
hex, proofs and results as JSON objects), so replacing a shim by the adapter's capability object
(``conformance/adapters/api.py``) changes only the factory a test passes. Each shim maps the
protocol onto the reference classes one to one and adds no logic of its own; a class argument
lets a test swap in a mutant subclass of the reference (``properties/mutants``).
"""
