"""The machine-readable spec catalog: one validated record per rule ID.

The catalog lives in ``spec/catalog/<area>.toml`` (one ``[[rule]]`` table per record) beside the
prose in ``spec/<area>.md``; ``spec/waivers.toml`` lists the IDs that have no test yet, each with
a reason and the component that will cover it. Loading validates every record with pydantic and
then the catalog as a whole: IDs unique, every ``validates`` link resolves, properties validate at
least one requirement, thresholds well formed. A broken catalog raises :class:`CatalogError`
naming the file and the record.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from aethel.errors import RULE_ID_PATTERN, AethelError

Area = Literal[
    "encoding",
    "state-tree",
    "proofs",
    "consensus",
    "consensus-v2",
    "economics",
    "sync",
    "security",
    "monitoring",
    "performance",
]
#: The spec's areas in their order (one ``spec/catalog/<area>.toml`` each): the values of Area.
AREAS: tuple[Area, ...] = get_args(Area)
Level = Literal["MUST", "SHOULD"]
Kind = Literal["functional", "performance", "security", "property", "invariant"]
Comparison = Literal["<=", ">=", "<", ">", "=="]

_METRIC = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogError(AethelError):
    """The spec catalog is malformed; the message names the file and record."""


class Threshold(BaseModel):
    """A measurable bound: ``metric comparison value`` in ``unit``, measured as ``where`` says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Annotated[str, Field(pattern=_METRIC.pattern)]
    comparison: Comparison
    value: StrictInt | StrictFloat
    unit: Annotated[str, Field(min_length=1)]
    where: Annotated[str, Field(min_length=10)]

    def holds(self, measured: float) -> bool:
        """Return True if ``measured`` satisfies this threshold."""
        if math.isnan(measured):
            return False
        match self.comparison:
            case "<=":
                return measured <= self.value
            case ">=":
                return measured >= self.value
            case "<":
                return measured < self.value
            case ">":
                return measured > self.value
            case "==":
                return measured == self.value
        raise AssertionError(self.comparison)  # pragma: no cover - Literal is exhaustive

    def describe(self) -> str:
        """Return ``metric <= value unit``."""
        return f"{self.metric} {self.comparison} {self.value} {self.unit}"


class Waiver(BaseModel):
    """Why an ID has no test yet, and which component will cover it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Annotated[str, Field(min_length=5)]
    component: Annotated[str, Field(min_length=3)]


class Rule(BaseModel):
    """One catalog record: a requirement, property, invariant or encoding rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=RULE_ID_PATTERN)]
    area: Area
    title: Annotated[str, Field(min_length=3, max_length=100)]
    level: Level
    kind: Kind
    statement: Annotated[str, Field(min_length=10)]
    validates: tuple[str, ...] = ()
    thresholds: tuple[Threshold, ...] = ()


def rule_sort_key(rule_id: str) -> tuple[int, tuple[int | str, ...]]:
    """Order IDs as the spec does: E, R, N, T22, P, I, then V (version 2); numbers numerically."""
    order = {"E": 0, "R": 1, "N": 2, "T": 3, "P": 4, "I": 5, "V": 6}
    parts: tuple[int | str, ...] = tuple(
        int(part) if part.isdigit() else part for part in re.findall(r"\d+|[A-Za-z]+", rule_id[1:])
    )
    return (order.get(rule_id[:1], 9), parts)


class Catalog:
    """All records, in spec order, with lookups by ID."""

    def __init__(self, rules: list[Rule], waivers: dict[str, Waiver] | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(sorted(rules, key=lambda r: rule_sort_key(r.id)))
        self._by_id = {rule.id: rule for rule in self.rules}
        #: IDs without a test yet, with the reason and the component that will cover them.
        self.waivers: dict[str, Waiver] = dict(waivers or {})

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._by_id

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._by_id[rule_id]
        except KeyError:
            raise KeyError(
                f"unknown rule ID {rule_id!r}; see `aethel-conformance spec list`"
            ) from None

    def ids(self) -> tuple[str, ...]:
        """Return every ID in spec order."""
        return tuple(rule.id for rule in self.rules)

    def validated_by(self, rule_id: str) -> tuple[str, ...]:
        """Return the properties and invariants that declare they validate ``rule_id``."""
        return tuple(rule.id for rule in self.rules if rule_id in rule.validates)


def spec_dir() -> Path:
    """Return the directory holding the spec: packaged copy first, else the source tree."""
    here = Path(__file__).resolve().parent
    packaged = here / "_spec"
    if (packaged / "catalog").is_dir():
        return packaged
    return here.parent / "spec"


def _load_file(path: Path) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path.name}: not valid TOML: {exc}") from None
    unknown = set(data) - {"rule"}
    if unknown:
        raise CatalogError(f"{path.name}: unexpected top-level keys {sorted(unknown)}")
    records = data.get("rule", [])
    if not isinstance(records, list):
        raise CatalogError(f"{path.name}: 'rule' must be an array of tables ([[rule]])")
    rules = []
    for index, record in enumerate(records):
        label = record.get("id", f"#{index + 1}") if isinstance(record, dict) else f"#{index + 1}"
        try:
            rule = Rule.model_validate(record)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
                for err in exc.errors()
            )
            raise CatalogError(f"{path.name}: record {label}: {problems}") from None
        expected_area = path.stem
        if rule.area != expected_area:
            raise CatalogError(
                f"{path.name}: record {rule.id}: area {rule.area!r} belongs in {rule.area}.toml"
            )
        rules.append(rule)
    return rules


def _load_waivers(path: Path) -> dict[str, Waiver]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path.name}: not valid TOML: {exc}") from None
    waivers = {}
    for rule_id, record in data.items():
        try:
            waivers[rule_id] = Waiver.model_validate(record)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise CatalogError(f"{path.name}: waiver {rule_id}: {problems}") from None
    return waivers


def validate_catalog(
    rules: list[Rule],
    waivers: dict[str, Waiver] | None = None,
    files: Sequence[str] | None = None,
) -> Catalog:
    """Check cross-record rules and return the :class:`Catalog`; raise :class:`CatalogError`.

    ``files``, when given, names the file of each rule (same order) so errors can say where.
    """

    def where(index: int) -> str:
        return f"{files[index]}: " if files is not None else ""

    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        if rule.id in seen:
            first = f" (first in {files[seen[rule.id]]})" if files is not None else ""
            raise CatalogError(f"{where(index)}record {rule.id}: duplicate ID{first}")
        seen[rule.id] = index
    for index, rule in enumerate(rules):
        label = f"{where(index)}record {rule.id}"
        for target in rule.validates:
            if target not in seen:
                raise CatalogError(f"{label}: validates unknown ID {target!r}")
            if target == rule.id:
                raise CatalogError(f"{label}: validates itself")
        if rule.kind == "property" and not rule.validates:
            raise CatalogError(f"{label}: a property must validate at least one rule")
        if rule.validates and rule.kind not in ("property", "invariant"):
            raise CatalogError(f"{label}: only properties and invariants validate rules")
        kind_by_prefix = {"P": "property", "I": "invariant"}
        expected_kind = kind_by_prefix.get(rule.id[0])
        if expected_kind is not None and rule.kind != expected_kind:
            raise CatalogError(f"{label}: kind must be {expected_kind!r}")
        if rule.id[0] not in kind_by_prefix and rule.kind in ("property", "invariant"):
            raise CatalogError(f"{label}: kind {rule.kind!r} is for P*/I* records")
        metrics = [t.metric for t in rule.thresholds]
        if len(set(metrics)) != len(metrics):
            raise CatalogError(f"{label}: two thresholds share one metric name")
    for rule_id in waivers or {}:
        if rule_id not in seen:
            raise CatalogError(f"waivers.toml: waiver for unknown ID {rule_id!r}")
    return Catalog(rules, waivers)


def load_catalog_from(directory: Path, waivers_path: Path | None = None) -> Catalog:
    """Load and validate every ``*.toml`` file of ``directory`` and the waivers file."""
    if not directory.is_dir():
        raise CatalogError(f"catalog directory {directory} does not exist")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"catalog directory {directory} holds no *.toml files")
    for path in files:
        if path.stem not in AREAS:
            raise CatalogError(f"{path.name}: not an area; areas are {', '.join(AREAS)}")
    rules: list[Rule] = []
    names: list[str] = []
    for path in files:
        loaded = _load_file(path)
        rules.extend(loaded)
        names.extend(path.name for _ in loaded)
    waivers = _load_waivers(waivers_path) if waivers_path else None
    return validate_catalog(rules, waivers, names)


@functools.cache
def load_catalog() -> Catalog:
    """Load the project's catalog (cached)."""
    return load_catalog_from(spec_dir() / "catalog", spec_dir() / "waivers.toml")
