"""The spec catalog: the project's catalog is complete and right, broken catalogs are refused.

Tooling tests: they check the catalog machinery and content, not a protocol rule, so they cite
no rule ID.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from aethel.catalog import (
    AREAS,
    Catalog,
    CatalogError,
    Threshold,
    load_catalog,
    load_catalog_from,
    spec_dir,
)
from aethel.errors import is_rule_id

# --------------------------------------------------------------------------- expected IDs

#: Requirements per group in SPEC.md: R1.1-R1.5, R2.1-R2.6, ..., R8.1-R8.6.
_R_COUNTS = {1: 5, 2: 6, 3: 6, 4: 7, 5: 6, 6: 5, 7: 6, 8: 6}

EXPECTED_IDS = frozenset(
    [f"E{i}" for i in range(1, 13)]
    + [f"R{group}.{i}" for group, count in _R_COUNTS.items() for i in range(1, count + 1)]
    + [f"N{i}" for i in range(1, 8)]
    + ["T22.1a", "T22.1b"]
    + [f"T22.2{letter}" for letter in "abcde"]
    + ["T22.3"]
    + [f"T22.3.B{i}" for i in range(1, 6)]
    + [f"P{i}" for i in range(1, 37)]
    + [f"I{i}" for i in range(1, 11)]
    + [f"V2.{i}" for i in range(1, 12)]
)

#: What each property validates, from the parentheses of SPEC.md.
PROPERTY_LINKS = {
    "P1": {"R1.1"}, "P2": {"R1.2", "R4.4"}, "P3": {"R1.3"}, "P4": {"R1.4"}, "P5": {"R1.5"},
    "P6": {"R2.2"}, "P7": {"R2.3"}, "P8": {"R2.4", "R7.1"}, "P9": {"R2.5"}, "P10": {"R2.6"},
    "P11": {"R3.2"}, "P12": {"R3.3"}, "P13": {"R3.4"}, "P14": {"R3.6", "R5.2"}, "P15": {"R4.1"},
    "P16": {"R4.2"}, "P17": {"R4.3"}, "P18": {"R4.5"}, "P19": {"R4.6"}, "P20": {"R4.7"},
    "P21": {"R5.1"}, "P22": {"R5.3"}, "P23": {"R5.5"}, "P24": {"R6.2"}, "P25": {"R6.3"},
    "P26": {"R6.5"}, "P27": {"R7.2"}, "P28": {"R7.3"}, "P29": {"R7.4"}, "P30": {"R7.5"},
    "P31": {"R7.6"}, "P32": {"R8.1"}, "P33": {"R8.2"}, "P34": {"R8.3"}, "P35": {"R8.4"},
    "P36": {"R8.5"},
}  # fmt: skip

#: The rules each invariant backs (at least these).
INVARIANT_LINKS = {
    "I1": {"R2.2"}, "I2": {"R2.2", "R2.4"}, "I3": {"E8"}, "I4": {"T22.1a"}, "I5": {"R3.6"},
    "I6": {"R1.3"}, "I7": {"R4.7"}, "I8": {"R4.2"}, "I9": {"R1.4"}, "I10": {"R6.5"},
}  # fmt: skip

#: Thresholds the spec fixes: (ID, metric, comparison, value). Loosening one must fail here.
REQUIRED_THRESHOLDS = [
    ("R2.1", "validators", ">=", 1000),
    ("R6.1", "finality_virtual_s", "<=", 10),
    ("R6.2", "finality_virtual_s", "<=", 30),
    ("P24", "finality_virtual_s", "<=", 30),
    ("R6.3", "pending_proofs", ">=", 1000),
    ("R6.4", "proofs_per_s", ">=", 100),
    ("R6.5", "timeout_to_latency_ratio", ">=", 4),
    ("R6.5", "observed_latency_ms", ">", 500),
    ("P26", "timeout_to_latency_ratio", ">=", 4),
    ("R4.5", "reward_delay_virtual_s", "<=", 10),
    ("P18", "reward_delay_virtual_s", "<=", 10),
    ("R4.2", "slash_percent_false_claim", "==", 5),
    ("R4.2", "slash_percent_equivocation", "==", 20),
    ("R4.3", "member_stake", ">=", 1000),
    ("R4.4", "block_reward", "<=", 5_000_000),
    ("R1.2", "reward_per_difficulty", "==", 10),
    ("R8.3", "accuracy_alert_below", "==", 0.95),
    ("R8.3", "accuracy_window_verdicts", "==", 100),
    ("P34", "accuracy_alert_below", "==", 0.95),
    ("N3", "pending_proofs", ">=", 1000),
    ("N4", "validators", ">=", 10000),
    ("N5", "sync_s", "<", 60),
    ("T22.1b", "default_cache_size", "==", 1000),
    ("T22.1b", "hit_rate", ">", 0),
    ("T22.2a", "parallel_speedup_2_workers", ">=", 1.3),
    ("T22.2d", "cache_hit_rate", "==", 1.0),
    ("T22.2d", "cached_to_fresh_time_ratio", "<=", 0.5),
    ("T22.3.B1", "finality_virtual_s", "<=", 10),
    ("T22.3.B2", "finality_virtual_s", "<=", 30),
    ("T22.3.B3", "proofs_per_s", ">=", 1000),
    ("T22.3.B4", "sync_10k_s", "<=", 60),
    ("T22.3.B4", "sync_1m_s", "<=", 60),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog_from(spec_dir() / "catalog", spec_dir() / "waivers.toml")


# --------------------------------------------------------------------------- the project's catalog


def test_catalog_loads_with_every_spec_id(catalog: Catalog) -> None:
    assert set(catalog.ids()) == EXPECTED_IDS
    assert len(catalog) == len(EXPECTED_IDS) == 136
    assert load_catalog().ids() == catalog.ids()


def test_catalog_covers_every_area_and_files_match_areas(catalog: Catalog) -> None:
    assert {rule.area for rule in catalog} == set(AREAS)
    assert {p.stem for p in (spec_dir() / "catalog").glob("*.toml")} == set(AREAS)


def test_ids_come_in_spec_order(catalog: Catalog) -> None:
    ids = catalog.ids()
    assert ids[:3] == ("E1", "E2", "E3")
    assert ids.index("E10") > ids.index("E9")
    assert ids.index("R1.5") < ids.index("R2.1") < ids.index("N1") < ids.index("T22.1a")
    assert ids.index("T22.3") < ids.index("T22.3.B1") < ids.index("P1") < ids.index("P10")
    assert ids.index("I10") < ids.index("V2.1") < ids.index("V2.2") < ids.index("V2.10")
    assert ids[-1] == "V2.11"


@pytest.mark.parametrize(("prop", "links"), sorted(PROPERTY_LINKS.items()))
def test_properties_validate_what_the_spec_says(
    catalog: Catalog, prop: str, links: set[str]
) -> None:
    assert catalog[prop].kind == "property"
    assert set(catalog[prop].validates) == links


@pytest.mark.parametrize(("invariant", "links"), sorted(INVARIANT_LINKS.items()))
def test_invariants_link_the_rules_they_back(
    catalog: Catalog, invariant: str, links: set[str]
) -> None:
    assert catalog[invariant].kind == "invariant"
    assert links <= set(catalog[invariant].validates)


def test_kinds_follow_the_id_families(catalog: Catalog) -> None:
    for rule in catalog:
        if rule.id.startswith("P"):
            assert rule.kind == "property", rule.id
        elif rule.id.startswith("I"):
            assert rule.kind == "invariant", rule.id
        else:
            assert rule.kind in ("functional", "performance", "security"), rule.id
    for rule_id in ("R6.1", "R6.2", "R6.4", "N4", "N5", "T22.3", "T22.3.B1", "T22.3.B3"):
        assert catalog[rule_id].kind == "performance", rule_id


def test_everything_conformance_enforces_is_a_must(catalog: Catalog) -> None:
    assert {rule.level for rule in catalog} == {"MUST"}


def test_validated_by_lists_the_properties_and_invariants(catalog: Catalog) -> None:
    assert set(catalog.validated_by("R2.2")) == {"P6", "I1", "I2"}
    assert catalog.validated_by("E1") == ()


@pytest.mark.parametrize(("rule_id", "metric", "comparison", "value"), REQUIRED_THRESHOLDS)
def test_required_threshold_is_present_and_exact(
    catalog: Catalog, rule_id: str, metric: str, comparison: str, value: float
) -> None:
    found = {t.metric: t for t in catalog[rule_id].thresholds}
    assert metric in found, f"{rule_id} lacks threshold {metric}"
    threshold = found[metric]
    assert (threshold.comparison, threshold.value) == (comparison, value)
    assert len(threshold.where) >= 40, "say how and where it is measured"


def test_titles_are_unique_within_an_area(catalog: Catalog) -> None:
    for area in AREAS:
        titles = [rule.title for rule in catalog if rule.area == area]
        assert len(titles) == len(set(titles)), area


def test_waivers_name_catalog_ids_with_a_component(catalog: Catalog) -> None:
    for rule_id, waiver in catalog.waivers.items():
        assert rule_id in catalog
        assert waiver.component.strip() and waiver.reason.strip()


def test_unknown_id_lookup_says_how_to_find_ids(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="spec list"):
        catalog["R9.9"]
    assert "R2.4" in catalog
    assert "R9.9" not in catalog


# --------------------------------------------------------------------------- broken catalogs

ENCODING = """
[[rule]]
id = "E1"
area = "encoding"
title = "Canonical JSON"
level = "MUST"
kind = "functional"
statement = "Values are encoded in one canonical form."
"""

PERFORMANCE = """
[[rule]]
id = "R6.1"
area = "performance"
title = "Finality at 1,000 validators"
level = "MUST"
kind = "performance"
statement = "Every height finalizes within 10 s."

[[rule.thresholds]]
metric = "finality_virtual_s"
comparison = "<="
value = 10
unit = "s"
where = "Simulator, n = 1,000, largest per-height finality."

[[rule]]
id = "P24"
area = "performance"
title = "Finality property"
level = "MUST"
kind = "property"
statement = "Every height finalizes in time in every run."
validates = ["R6.1"]
"""


def _write(
    directory: Path, files: dict[str, str], waivers: str | None = None
) -> tuple[Path, Path | None]:
    catalog_dir = directory / "catalog"
    catalog_dir.mkdir()
    for name, text in files.items():
        (catalog_dir / name).write_text(text, encoding="utf-8")
    waivers_path = None
    if waivers is not None:
        waivers_path = directory / "waivers.toml"
        waivers_path.write_text(waivers, encoding="utf-8")
    return catalog_dir, waivers_path


def _load(directory: Path, files: dict[str, str], waivers: str | None = None) -> Catalog:
    catalog_dir, waivers_path = _write(directory, files, waivers)
    return load_catalog_from(catalog_dir, waivers_path)


def test_minimal_catalog_loads(tmp_path: Path) -> None:
    waivers = '["P24"]\nreason = "not yet built"\ncomponent = "the simulator"\n'
    catalog = _load(tmp_path, {"encoding.toml": ENCODING, "performance.toml": PERFORMANCE}, waivers)
    assert catalog.ids() == ("E1", "R6.1", "P24")
    assert catalog.waivers["P24"].component == "the simulator"
    assert catalog["R6.1"].thresholds[0].describe() == "finality_virtual_s <= 10 s"


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


R61_WITH_VALIDATES = _replace(
    PERFORMANCE, 'kind = "performance"\n', 'kind = "performance"\nvalidates = ["P24"]\n'
)
P24_AS_FUNCTIONAL = _replace(
    _replace(PERFORMANCE, 'validates = ["R6.1"]\n', ""), 'kind = "property"', 'kind = "functional"'
)

# Each case: catalog files, waivers, and the fragments the error message must contain.
BROKEN = {
    "duplicate-id": (
        {
            "encoding.toml": ENCODING,
            "performance.toml": PERFORMANCE + ENCODING.replace('"encoding"', '"performance"'),
        },
        None,
        ["performance.toml", "record E1", "duplicate ID", "encoding.toml"],
    ),
    "validates-unknown-id": (
        {"performance.toml": _replace(PERFORMANCE, '["R6.1"]', '["R6.2"]')},
        None,
        ["performance.toml", "record P24", "unknown ID 'R6.2'"],
    ),
    "validates-itself": (
        {"performance.toml": _replace(PERFORMANCE, '["R6.1"]', '["P24"]')},
        None,
        ["performance.toml", "record P24", "validates itself"],
    ),
    "property-without-validates": (
        {"performance.toml": _replace(PERFORMANCE, 'validates = ["R6.1"]\n', "")},
        None,
        ["performance.toml", "record P24", "must validate at least one"],
    ),
    "requirement-with-validates": (
        {"performance.toml": R61_WITH_VALIDATES},
        None,
        ["performance.toml", "record R6.1", "only properties and invariants"],
    ),
    "property-with-wrong-kind": (
        {"performance.toml": P24_AS_FUNCTIONAL},
        None,
        ["performance.toml", "record P24", "kind must be 'property'"],
    ),
    "threshold-bad-comparison": (
        {"performance.toml": _replace(PERFORMANCE, 'comparison = "<="', 'comparison = "=<"')},
        None,
        ["performance.toml", "record R6.1", "thresholds.0.comparison"],
    ),
    "threshold-value-not-a-number": (
        {"performance.toml": _replace(PERFORMANCE, "value = 10", 'value = "10"')},
        None,
        ["performance.toml", "record R6.1", "thresholds.0.value"],
    ),
    "threshold-value-boolean": (
        {"performance.toml": _replace(PERFORMANCE, "value = 10", "value = true")},
        None,
        ["performance.toml", "record R6.1", "thresholds.0.value"],
    ),
    "threshold-missing-where": (
        {
            "performance.toml": _replace(
                PERFORMANCE, 'where = "Simulator, n = 1,000, largest per-height finality."\n', ""
            )
        },
        None,
        ["performance.toml", "record R6.1", "thresholds.0.where", "Field required"],
    ),
    "threshold-where-too-short": (
        {
            "performance.toml": _replace(
                PERFORMANCE, '"Simulator, n = 1,000, largest per-height finality."', '"sim"'
            )
        },
        None,
        ["performance.toml", "record R6.1", "thresholds.0.where"],
    ),
    "threshold-metric-not-snake-case": (
        {"performance.toml": _replace(PERFORMANCE, '"finality_virtual_s"', '"FinalitySeconds"')},
        None,
        ["performance.toml", "record R6.1", "thresholds.0.metric"],
    ),
    "threshold-extra-field": (
        {"performance.toml": _replace(PERFORMANCE, 'unit = "s"', 'unit = "s"\ngoal = 0.6')},
        None,
        ["performance.toml", "record R6.1", "thresholds.0.goal", "Extra inputs"],
    ),
    "two-thresholds-one-metric": (
        {
            "performance.toml": _replace(
                PERFORMANCE,
                '\n[[rule]]\nid = "P24"',
                '\n[[rule.thresholds]]\nmetric = "finality_virtual_s"\ncomparison = "<"\n'
                'value = 9\nunit = "s"\nwhere = "Another measurement of the same metric."\n'
                '\n[[rule]]\nid = "P24"',
            )
        },
        None,
        ["performance.toml", "record R6.1", "share one metric"],
    ),
    "extra-field": (
        {"encoding.toml": _replace(ENCODING, 'level = "MUST"', 'level = "MUST"\nowner = "me"')},
        None,
        ["encoding.toml", "record E1", "owner", "Extra inputs"],
    ),
    "missing-field": (
        {"encoding.toml": _replace(ENCODING, 'kind = "functional"\n', "")},
        None,
        ["encoding.toml", "record E1", "kind", "Field required"],
    ),
    "bad-level": (
        {"encoding.toml": _replace(ENCODING, '"MUST"', '"MAY"')},
        None,
        ["encoding.toml", "record E1", "level"],
    ),
    "malformed-id": (
        {"encoding.toml": _replace(ENCODING, '"E1"', '"E-1"')},
        None,
        ["encoding.toml", "record E-1", "id"],
    ),
    "record-in-wrong-area-file": (
        {"performance.toml": PERFORMANCE + ENCODING},
        None,
        ["performance.toml", "record E1", "belongs in encoding.toml"],
    ),
    "unknown-file-name": (
        {"encoding.toml": ENCODING, "misc.toml": ""},
        None,
        ["misc.toml", "not an area"],
    ),
    "not-toml": (
        {"encoding.toml": ENCODING + "\n[[rule]\n"},
        None,
        ["encoding.toml", "not valid TOML"],
    ),
    "unexpected-top-level-key": (
        {"encoding.toml": "version = 1\n" + ENCODING},
        None,
        ["encoding.toml", "unexpected top-level keys", "version"],
    ),
    "waiver-for-unknown-id": (
        {"encoding.toml": ENCODING},
        '["R9.9"]\nreason = "not yet built"\ncomponent = "nobody"\n',
        ["waivers.toml", "R9.9", "unknown ID"],
    ),
    "waiver-without-component": (
        {"encoding.toml": ENCODING},
        '["E1"]\nreason = "not yet built"\n',
        ["waivers.toml", "waiver E1", "component"],
    ),
}


@pytest.mark.parametrize(("files", "waivers", "fragments"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_catalog_is_refused_naming_file_and_record(
    tmp_path: Path, files: dict[str, str], waivers: str | None, fragments: list[str]
) -> None:
    with pytest.raises(CatalogError) as info:
        _load(tmp_path, files, waivers)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_missing_or_empty_catalog_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog_from(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match=r"no \*\.toml files"):
        load_catalog_from(tmp_path / "empty")


# --------------------------------------------------------------------------- thresholds


def _threshold(comparison: str, value: float) -> Threshold:
    return Threshold.model_validate(
        {
            "metric": "finality_virtual_s",
            "comparison": comparison,
            "value": value,
            "unit": "s",
            "where": "a simulator run of the reference model",
        }
    )


@pytest.mark.parametrize(
    ("comparison", "passing", "failing"),
    [
        ("<=", [9, 10, -1.5], [10.000001, 11]),
        (">=", [10, 11, 1e9], [9.999999, 0]),
        ("<", [9, 9.999], [10, 10.5]),
        (">", [10.001, 11], [10, 9]),
        ("==", [10, 10.0], [9.999, 10.001]),
    ],
)
def test_threshold_holds_exactly_at_its_boundary(
    comparison: str, passing: list[float], failing: list[float]
) -> None:
    threshold = _threshold(comparison, 10)
    for measured in passing:
        assert threshold.holds(measured), (comparison, measured)
    for measured in failing:
        assert not threshold.holds(measured), (comparison, measured)


@pytest.mark.parametrize("comparison", ["<=", ">=", "<", ">", "=="])
def test_nan_never_meets_a_threshold(comparison: str) -> None:
    assert not _threshold(comparison, 10).holds(math.nan)


def test_threshold_describe_and_decimal_values() -> None:
    assert _threshold("<=", 10).describe() == "finality_virtual_s <= 10 s"
    assert _threshold(">", 1.0).describe() == "finality_virtual_s > 1.0 s"
    assert _threshold("==", 0.95).holds(0.95)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R2.3", True),
        ("N6", True),
        ("T22.3.B4", True),
        ("P36", True),
        ("V2.10", True),
        ("V1.2", False),
        ("", False),
        ("R9.1", False),
        ("Rejected", False),
        ("R2.3 extra", False),
    ],
)
def test_rule_ids_are_told_from_other_text(text: str, expected: bool) -> None:
    assert is_rule_id(text) is expected
    if expected:
        assert text in load_catalog().ids()
