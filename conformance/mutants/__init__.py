"""Deliberately broken implementations: each is the reference with one small, realistic defect.

``aethel-conformance selftest`` runs the suite against every mutant and fails unless each is
caught: for every rule the mutant's defect breaks, at least one case citing that rule must fail
(fail, error or timeout) while the same case passes against the reference. A mutant is built by
subclassing the reference adapter or the reference's own classes and changing one thing; none
fakes an answer the suite checks.

Each mutant names its class, so it loads like any Python implementation, e.g.
``--impl python:conformance.mutants.list_hash:OddLeafImplementation``
(``aethel-conformance selftest --list`` prints them all).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_journal import (
    ReferenceJournaledReplicaObject,
    ReferenceVoteJournal,
)
from conformance.adapters.reference_replica import ReferenceReplica, ReferenceReplicaObject


@dataclass(frozen=True, slots=True)
class Mutant:
    """One defect, the rules it breaks, and how to build the broken implementation."""

    name: str
    defect: str
    breaks: tuple[str, ...]
    capabilities: tuple[str, ...]
    build: Callable[[], ReferenceImplementation]

    @property
    def impl_spec(self) -> str:
        """Return the ``--impl`` argument that loads this mutant."""
        return f"python:{self.build.__module__}:{self.build.__qualname__}"


class CommandsUnderPatch:
    """A mixin: every public command of the object runs with ``patch`` applied, (the object
    patched, the attribute, its replacement), so a defect deep in the reference is in force for
    the object's whole life without subclassing every class on the way."""

    patch: tuple[Any, str, Any] = (None, "", None)

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        target, member, replacement = super().__getattribute__("patch")

        def under_patch(*args: Any, **kwargs: Any) -> Any:
            with mock.patch.object(target, member, replacement):
                return attribute(*args, **kwargs)

        return under_patch


def mutant_label(name: str) -> str:
    """Return the implementation name of the mutant class ``name`` ("ParentsUnchecked" ->
    "mutant-parents-unchecked"), as reports show it."""
    return "mutant-" + "".join("-" + c.lower() if c.isupper() else c for c in name).strip("-")


def replica_implementation(
    name: str,
    module: str,
    base: type[ReferenceReplicaObject] = ReferenceReplicaObject,
    **overrides: Any,
) -> type[ReferenceImplementation]:
    """Return the reference implementation whose replica capability builds ``base`` objects
    with ``overrides`` (``replica_class=`` a replica with the defect, or its validator or
    executor class), as the class ``name`` of ``module``: assign it to that name there, so
    :attr:`Mutant.impl_spec` loads it (``python:module:name``)."""
    object_class = type(f"{name}Object", (base,), {"__module__": module, **overrides})
    capability = type(
        f"{name}Replica", (ReferenceReplica,), {"__module__": module, "object_class": object_class}
    )

    def make_replica(self: ReferenceImplementation) -> object:
        return capability()

    attributes = {"__module__": module, "name": mutant_label(name), "make_replica": make_replica}
    return type(name, (ReferenceImplementation,), attributes)


def restarting_implementation(
    name: str, module: str, replica_class: type[Any]
) -> type[ReferenceImplementation]:
    """Return the reference whose replicas, fresh (``replica``, ``lost-journal``) or opened on
    a directory (``vote-journal``, ``lost-journal-on-disk``), are ``replica_class``, as the class
    ``name`` of ``module`` (see :func:`replica_implementation`)."""
    fresh = replica_implementation(name, module, replica_class=replica_class)
    journaled = type(
        f"{name}JournaledObject",
        (ReferenceJournaledReplicaObject,),
        {"__module__": module, "replica_class": replica_class},
    )
    journal = type(
        f"{name}Journal", (ReferenceVoteJournal,), {"__module__": module, "object_class": journaled}
    )

    def make_vote_journal(self: ReferenceImplementation) -> object:
        return journal()

    return type(name, (fresh,), {"__module__": module, "make_vote_journal": make_vote_journal})


def registry() -> dict[str, Mutant]:
    """Return every mutant by name, from each module of this package that has ``MUTANTS``.

    Modules are imported here, not at package import: some need components that may be absent.
    A new module of mutants joins the registry by being in this package.
    """
    found: dict[str, Mutant] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for mutant in getattr(module, "MUTANTS", ()):
            if mutant.name in found:
                raise ValueError(f"two mutants are named {mutant.name!r}")
            found[mutant.name] = mutant
    return found
