"""Turn an ``--impl`` argument into an :class:`Implementation`.

* ``reference``: the Aethel reference implementation, in process.
* ``python:package.module:factory``: ``factory()`` from an importable module returns an object
  with ``name``, ``version``, ``capabilities`` and ``api(capability)``.
* ``stdio:COMMAND``: a program in any language speaking the JSON-lines protocol of
  conformance/PROTOCOL.md on its standard input and output.
* ``stdio-reference``: the reference served over that protocol by this Python
  (``stdio:python -m conformance.cli serve-reference``).
"""

from __future__ import annotations

import importlib
import shlex
import sys

from aethel.errors import UsageError
from conformance.adapters.api import Implementation
from conformance.adapters.load_options import LoadOptions
from conformance.capabilities import parse_capabilities


def check_spec(spec: str) -> None:
    """Raise :class:`UsageError` if ``spec`` is not the form of an ``--impl`` argument.

    Only the form: nothing is imported or started (that happens once per run, in the suite's
    process, where a failure becomes every case's error and the report's headline).
    """
    if spec in ("reference", "stdio-reference"):
        return
    if spec.startswith("python:"):
        module_name, _, factory_name = spec.removeprefix("python:").partition(":")
        if not module_name or not factory_name:
            raise UsageError(f"{spec}: expected python:package.module:factory")
        return
    if spec.startswith("stdio:"):
        if not spec.removeprefix("stdio:").strip():
            raise UsageError("stdio: needs a command, e.g. stdio:'./my-impl --conformance'")
        return
    raise UsageError(
        f"unknown implementation {spec!r}; use reference, stdio-reference, "
        "python:package.module:factory or stdio:COMMAND"
    )


def load_implementation(spec: str, options: LoadOptions | None = None) -> Implementation:
    """Return the implementation named by ``spec``; raise :class:`UsageError` if it cannot be."""
    options = options or LoadOptions()
    if spec == "reference":
        from conformance.adapters.reference import ReferenceImplementation

        return ReferenceImplementation()
    if spec.startswith("python:"):
        return _load_python(spec.removeprefix("python:"))
    if spec == "stdio-reference":  # the reference served over the subprocess protocol
        spec = f"stdio:{shlex.quote(sys.executable)} -P -m conformance.cli serve-reference"
    if spec.startswith("stdio:"):
        # Loaded only for a subprocess: the stdio adapter and its schema validator take about
        # 0.1 s to import, which in-process runs (``--impl reference``) do not pay.
        from conformance.adapters.stdio import StdioImplementation

        check_spec(spec)
        return StdioImplementation(spec.removeprefix("stdio:").strip(), options)
    check_spec(spec)  # raises: no other form is known
    raise AssertionError(spec)


def _load_python(target: str) -> Implementation:
    check_spec(f"python:{target}")
    module_name, _, factory_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"python:{target}: cannot import {module_name}: {exc}") from None
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UsageError(f"python:{target}: {module_name} has no callable {factory_name}")
    implementation = factory()
    missing = [
        a for a in ("name", "version", "capabilities", "api") if not hasattr(implementation, a)
    ]
    if missing:
        raise UsageError(f"python:{target}: the implementation lacks {', '.join(missing)}")
    try:
        parse_capabilities(sorted(implementation.capabilities))
    except ValueError as exc:
        raise UsageError(f"python:{target}: {exc}") from None
    if not hasattr(implementation, "close"):
        implementation.close = lambda: None
    return implementation  # type: ignore[no-any-return]
