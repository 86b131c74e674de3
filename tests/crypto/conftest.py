"""py_ecc raises the interpreter's recursion limit to 100,000 when it is imported
(``py_ecc/__init__.py``), for the whole process. With that limit, a deeply nested JSON text makes
the C decoder overflow the C stack (a segmentation fault) instead of raising RecursionError, and
every later test that sends one (tests/harness/test_server.py, tests/test_encoding.py, ...) kills
the test process. py_ecc is imported here, once, and the limit put back; its BLS operations do not
recurse that deep (tests/crypto pass at the default limit)."""

from __future__ import annotations

import sys

_limit = sys.getrecursionlimit()
import py_ecc  # noqa: E402,F401  (the import that raises the limit)

sys.setrecursionlimit(_limit)
