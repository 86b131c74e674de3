"""``aethel-conformance spec``: print the catalog, its test coverage and its negative space."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aethel.catalog import Catalog, CatalogError, load_catalog
from conformance import negative_space, spec_show

app = typer.Typer(help="The spec catalog: list it, check its test coverage.", no_args_is_help=True)
console = Console()

#: Where tests live, relative to the project root (the suite itself ships in the package).
DEFAULT_TEST_PATHS = ("tests", "conformance/suite")


def project_root() -> Path | None:
    """Return the source checkout at hand (the working directory's, or the package's own)."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (Path.cwd(), here):
        pyproject = candidate / "pyproject.toml"
        if (
            (candidate / "tests").is_dir()
            and pyproject.is_file()
            and 'name = "aethel-conformance"' in pyproject.read_text(encoding="utf-8")
        ):
            return candidate
    return None


def default_test_paths() -> list[str]:
    """Return the test folders to collect.

    In a source checkout: its ``tests`` and ``conformance/suite``. Elsewhere (an installed
    package): the suite where it is installed; the project's ``tests`` folder does not ship, and
    the suite with the Z3 proofs (:func:`proof_citations`) cites every ID that has no waiver.
    """
    root = project_root()
    if root is not None:
        return [str(root / p) for p in DEFAULT_TEST_PATHS if (root / p).exists()]
    from conformance.plugin import SUITE_DIR

    return [str(SUITE_DIR)]


def proof_citations(catalog: Catalog | None = None) -> dict[str, str]:
    """Return invariant ID -> where its Z3 proof is, for every catalog record of kind invariant.

    The proofs are facts about the spec's formulas, not cases run against an implementation, so
    the suite does not import them (:mod:`aethel.formal`; ``aethel prove`` runs them). That every
    catalog invariant has a proof that holds is checked where they run: ``aethel prove`` fails on
    an invariant without one (tox's properties env), and so does ``tests/formal``.
    """
    records = (catalog or load_catalog()).rules
    return {
        r.id: f"aethel/formal: Z3 proof of {r.id} (aethel prove)"
        for r in records
        if r.kind == "invariant"
    }


def _catalog_or_exit() -> Catalog:
    try:
        return load_catalog()
    except CatalogError as exc:
        console.print(f"[red]spec catalog is broken:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command("list")
def list_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="print the records as a JSON array")
    ] = False,
    area: Annotated[str | None, typer.Option(help="only this area")] = None,
) -> None:
    """Print every catalog record (ID, area, level, kind, title, thresholds)."""
    catalog = _catalog_or_exit()
    rules = [rule for rule in catalog if area is None or rule.area == area]
    if as_json:
        print(json.dumps([rule.model_dump(mode="json") for rule in rules], indent=1))
        return
    table = Table(title=f"Aethel spec catalog: {len(rules)} records")
    for column in ("id", "area", "level", "kind", "title", "thresholds"):
        table.add_column(column)
    for rule in rules:
        table.add_row(
            rule.id,
            rule.area,
            rule.level,
            rule.kind,
            rule.title,
            "; ".join(t.describe() for t in rule.thresholds),
        )
    console.print(table)


@app.command("show")
def show_command(
    rule_id: Annotated[str, typer.Argument(help="a catalog ID, e.g. R2.4")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    all_code: Annotated[
        bool, typer.Option("--all-code", help="also list every reference module citing it")
    ] = False,
) -> None:
    """Show where one rule lives: its prose, its owner, its checkers, cases and mutants."""
    catalog = _catalog_or_exit()
    try:
        rule = catalog[rule_id]
    except KeyError:
        console.print(f"[red]unknown rule ID[/red] {rule_id!r} (`spec list` lists them)")
        raise typer.Exit(2) from None
    suite = default_test_paths()
    suite_cases = [p for p in suite if p.endswith(("conformance/suite", "suite"))] or suite
    cases = collect_citations(suite_cases).get(rule.id, [])
    rule_map = spec_show.map_rule(rule, cases)
    if as_json:
        print(json.dumps(rule_map.to_json(), indent=1))
    else:
        print(spec_show.render(rule_map, all_code=all_code))


@dataclass(frozen=True)
class CoverageRow:
    """How one catalog ID is covered."""

    rule_id: str
    tests: tuple[str, ...]
    waiver: str | None

    @property
    def status(self) -> str:
        if self.tests and self.waiver:
            return "stale-waiver"
        if self.tests:
            return "covered"
        return "waived" if self.waiver else "missing"


def collect_citations(paths: list[str]) -> dict[str, list[str]]:
    """Collect the tests under ``paths`` (without running them); return rule ID -> node IDs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "req-map.json"
        command = [
            sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
            "-p", "conformance.traceability", f"--req-map={out}", *paths,
        ]  # fmt: skip
        # From the checkout's root (its ``tests`` package first on the path), else from the
        # folder the packages are installed in.
        root = project_root() or Path(paths[0]).resolve().parent
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, cwd=root, env=_env(root)
        )
        if done.returncode not in (0, 5) or not out.exists():
            console.print(done.stdout[-4000:])
            console.print(done.stderr[-4000:])
            console.print("[red]test collection failed[/red]: fix the errors above first")
            raise typer.Exit(2)
        mapping: dict[str, list[str]] = json.loads(out.read_text(encoding="utf-8"))
        return mapping


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    return env


def compute_coverage(catalog: Catalog, citations: dict[str, list[str]]) -> list[CoverageRow]:
    """Return one row per catalog ID, in spec order."""
    rows = []
    for rule in catalog:
        found = catalog.waivers.get(rule.id)
        waiver = f"{found.reason} ({found.component})" if found else None
        rows.append(CoverageRow(rule.id, tuple(citations.get(rule.id, ())), waiver))
    return rows


@app.command("coverage")
def coverage_command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="test paths (default: tests and the suite, and the Z3 proofs)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print rows as JSON")] = False,
    verbose: Annotated[bool, typer.Option("-v", help="list the citing tests")] = False,
) -> None:
    """List every ID with the tests that cite it; fail if one has neither a test nor a waiver.

    A waiver on an ID that has tests is stale and also fails: remove it from the catalog. It
    also fails while a rule with refusal sentences has no must-reject case, a refusal sentence
    belongs to no rule, or spec/negative-space.toml is out of date (``spec negative-space``).
    """
    catalog = _catalog_or_exit()
    chosen = [str(Path(p).resolve()) for p in paths] if paths else default_test_paths()
    if not paths and project_root() is None:
        print(
            "no source checkout here: coverage of the installed suite and Z3 proofs (the "
            "project's tests/ folder does not ship; run from a checkout to include it)",
            file=sys.stderr,
        )
    citations = collect_citations(chosen) if chosen else {}
    if not paths:
        for rule_id, proof in proof_citations(catalog).items():
            citations.setdefault(rule_id, []).append(proof)
    rows = compute_coverage(catalog, citations)
    counts = {
        s: sum(r.status == s for r in rows)
        for s in ("covered", "waived", "missing", "stale-waiver")
    }
    if as_json:
        print(json.dumps([{"id": r.rule_id, "status": r.status, "tests": list(r.tests),
                           "waiver": r.waiver} for r in rows], indent=1))  # fmt: skip
    else:
        table = Table(title=f"Spec coverage of {', '.join(chosen) or '(no test paths)'}")
        for column in ("id", "status", "tests", "waiver" if not verbose else "citing tests"):
            table.add_column(column)
        styles = {"covered": "green", "waived": "yellow", "missing": "red", "stale-waiver": "red"}
        for row in rows:
            detail = "\n".join(row.tests) if verbose else (row.waiver or "")
            table.add_row(
                row.rule_id, f"[{styles[row.status]}]{row.status}[/]", str(len(row.tests)), detail
            )
        console.print(table)
        unknown = sorted(set(citations) - set(catalog.ids()))
        if unknown:  # cannot happen: collection fails first; kept as a guard against drift
            console.print(f"[red]tests cite unknown IDs:[/red] {unknown}")
    summary = (
        f"{len(rows)} IDs: {counts['covered']} covered, {counts['waived']} waived, "
        f"{counts['missing']} missing, {counts['stale-waiver']} stale waivers"
    )
    print(summary, file=sys.stderr if as_json else sys.stdout)
    gaps = _negative_space_gaps(catalog)
    if counts["missing"] or counts["stale-waiver"] or gaps:
        for row in rows:
            if row.status in ("missing", "stale-waiver"):
                print(f"  {row.status}: {row.rule_id}", file=sys.stderr)
        for line in gaps:
            print(f"  negative space: {line}", file=sys.stderr)
        raise typer.Exit(1)


def _negative_space_gaps(catalog: Catalog) -> list[str]:
    """Print the negative-space summary; return one line per gap (empty: complete)."""
    try:
        space = negative_space.compute(catalog)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    waived = sorted(r.rule_id for r in space.missing() if r.rule_id in catalog.waivers)
    gaps = negative_space.describe_missing(space, waived)
    covered = len(space.rules) - len(space.missing())
    print(
        f"negative space: {len(space.rules)} rules with refusal sentences, {covered} with a "
        f"must-reject case, {len(space.missing())} without"
        + (f" ({', '.join(waived)} waived)" if waived else "")
        + f"; {len(space.unattributed)} sentences without a rule",
        file=sys.stderr,
    )
    record = negative_space.record_path()
    if not record.exists() or record.read_text(encoding="utf-8") != negative_space.render(space):
        gaps.append(f"{record.name} is out of date: run `{negative_space.WRITE_COMMAND}`")
    return gaps


@app.command("negative-space")
def negative_space_command(
    write: Annotated[
        bool, typer.Option("--write", help=f"write spec/{negative_space.RECORD_NAME}")
    ] = False,
) -> None:
    """List each rule's refusal sentences and must-reject cases; fail on a gap.

    A refusal sentence says input is refused, rejected or invalid, or what must not happen; its
    rule needs a conformance case marked ``@pytest.mark.rejects``. ``--write`` records the
    mapping in spec/negative-space.toml (a test fails when that file is out of date).
    """
    catalog = _catalog_or_exit()
    try:
        space = negative_space.compute(catalog)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if write:
        negative_space.record_path().write_text(negative_space.render(space), encoding="utf-8")
        print(f"wrote {negative_space.record_path()}")
    table = Table(title="Negative space: refusal sentences and must-reject cases, by rule")
    for column in ("id", "sentences", "must-reject cases"):
        table.add_column(column)
    for rule in space.rules:
        cases = "\n".join(rule.must_reject) or "[red]none[/red]"
        table.add_row(rule.rule_id, str(len(rule.sentences)), cases)
    console.print(table)
    gaps = negative_space.describe_missing(space, catalog.waivers)
    for line in gaps:
        print(f"  {line}", file=sys.stderr)
    missing = len(space.missing())
    print(
        f"{len(space.rules)} rules with refusal sentences: {len(space.rules) - missing} with a "
        f"must-reject case, {missing} without; {len(space.unattributed)} sentences without a rule"
    )
    if gaps:
        raise typer.Exit(1)
