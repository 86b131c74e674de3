"""Test vectors: each case a JSON file under ``conformance/vectors/<runner>/<handler>/<case>.json``.

Like Ethereum's consensus-spec-tests, the layout is stable (runner = capability, handler = the
operation, case = a readable name) and every file names the rules it checks, its input and its
expected outcome, or that the input must be rejected::

    {"runner": "encoding", "handler": "parse_canonical_json", "case": "whitespace",
     "rules": ["E4"], "input": {"data": "7b2261223a20317d"}, "expected": {"reject": true}}

    {"runner": "list-hash", "handler": "root", "case": "size-3", "rules": ["E10"],
     "input": {"entries": [...]}, "expected": {"result": "ce56..."}}

One definition both writes a vector (``aethel-conformance vectors generate`` runs it on the
reference) and replays it (``conformance/suite/test_vectors.py`` runs it on any implementation),
so vectors and suite cannot drift; ``vectors check`` fails when the committed files and the
reference disagree. Implementers in other languages can also read the files directly.
"""
