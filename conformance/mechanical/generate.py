"""Enumerate and apply the mechanical mutants of the reference's modules (cosmic-ray's engine).

A mutant is (module, operator, occurrence): the ``occurrence``-th place where the operator can
change the module, counted the way cosmic-ray counts (``cosmic_ray.ast.ast_nodes`` pre-order, one
count per position) and applied by ``cosmic_ray.mutating.MutationVisitor.mutate_code``, so the
mutant we run is exactly cosmic-ray's mutation of that occurrence.

Its ID is stable across runs and across edits elsewhere in the file: module, enclosing
definition, operator, and a hash of the statement's first line, the mutated node's text and its
index within the node (with a counter for repeats of the same key), e.g.
``aethel/encoding.py:decode_varint:ReplaceComparisonOperator_Lt_LtE:3f0c2a91``. Line numbers are
kept beside the ID for people, not in it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import parso as untyped_parso
from cosmic_ray.ast import ast_nodes
from cosmic_ray.mutating import MutationVisitor

from conformance.mechanical.operators import kind_of, make_operator, operator_names

parso: Any = untyped_parso

#: Modules never mutated, with the reason: code no implementation process can run. The served
#: reference (:mod:`conformance.adapters.reference`) never imports them; the report lists them
#: with their mutant counts. The reason is checked against the control's coverage: a listed
#: module any served process ran a line of is mutated after all (the exclusion is void, and the
#: report says so), e.g. protocol version 2 from the commit that serves it. A module is never
#: left out because its mutants survive. Paths are relative to the repository root, with ``/``
#: separators; the longest matching prefix gives the reason.
EXCLUDED_MODULES: dict[str, str] = {
    "aethel/bench/": "benchmarks (the issue: bench and CLI aside)",
    "aethel/cli.py": "command-line front end (the issue: bench and CLI aside)",
    "aethel/sim/": "the discrete-event simulator, a tool that runs reference replicas in one "
    "process; no protocol capability runs it",
    "aethel/node/": "the node program (sockets, HTTP API, testnet, chaos); no protocol capability "
    "runs it",
    "aethel/progress.py": "progress lines of long commands (a tool's output)",
    "aethel/catalog.py": "the spec catalog loader (pydantic records of spec/catalog/): read by "
    "the suite, `aethel spec` and the proofs, never by a protocol command",
    "aethel/formal/": "the Z3 proofs of the spec's invariants (I1-I10) about the protocol's "
    "formulas: facts about the spec checked by `aethel prove` and the tests, "
    "not behaviour an implementation serves (the formulas themselves live in the mutated "
    "modules: aethel/arith.py, consensus/quorum.py, proofs/difficulty.py, economics.py)",
    "aethel/monitoring/health.py": "the operator health view rendered for the node's API and "
    "`aethel simulate --health`; no protocol command serves it (R8.6 has no capability)",
    "aethel/consensus/workload.py": "a deterministic transfer source for the harness, tests and "
    "the simulator; the harness imports it (pristine), the served reference never does",
    "aethel/crypto/": "protocol version 2 (BLS12-381) while no capability serves it (from "
    "48b7cb3 consensus-v2 does: then the control runs it and this exclusion is void)",
    "aethel/consensus/v2/": "protocol version 2 (BLS certificates, collector) while no capability "
    "serves it (from 48b7cb3 consensus-v2 does: then this exclusion is void)",
}
EXCLUDED = tuple(EXCLUDED_MODULES)

#: Definitions inside mutated modules that no protocol command runs, each with its reason
#: (module path, definition as a mutant ID names it -> why). Listed by hand after reading every
#: caller, never because their mutants survive; nested definitions are left out with their
#: parent. Like a module's, an exclusion is void when the control's served processes ran a line
#: of the definition's body (:meth:`conformance.mechanical.campaign.Campaign.mutants`).
_TERM_READING = (
    "the Z3-term reading of a formula (aethel/arith.py), called only when a Z3 term is passed: "
    "by the proofs of aethel/formal (left out); the served reference computes on ints"
)
_MIX_ONLY = (
    "an obligation kind of the standard mix (generate_standard_mix: the harness's and the "
    "benchmarks' workloads); the mempool's judge proves transfer obligations only"
)
_BANDWIDTH_MODEL = (
    "a message's wire size, read only by the simulator's bandwidth model (aethel/sim, left out); "
    "no protocol answer depends on it"
)
#: The reason for the block list-root helpers of aethel/proofs/model.py.
_UNUSED_ROOTS = (
    "an RFC 6962 root of a list of proofs or transfers that only tests/proofs calls; a block "
    "is hashed whole (its digest over its canonical form), so no served command computes one"
)

#: The reason for the ciphersuite draft's functions over raw bytes.
_DRAFT_BYTES = (
    "the BLS ciphersuite draft's functions over raw bytes (infinity allowed), replayed against "
    "Ethereum's vectors by tests/crypto; the protocol's commands use the stricter typed ones"
)

#: The reason for the replica's message queue.
_BATCH_QUEUE = (
    "a queue in front of batch_process_messages for shells that gather messages; no shell "
    "or capability uses it (the replica capability hands each batch whole)"
)

EXCLUDED_DEFINITIONS: dict[tuple[str, str], str] = {
    ("aethel/arith.py", "_z3"): _TERM_READING,
    ("aethel/arith.py", "_term"): _TERM_READING,
    ("aethel/arith.py", "_floor_div_term"): _TERM_READING,
    ("aethel/arith.py", "_minimum_term"): _TERM_READING,
    ("aethel/arith.py", "_maximum_term"): _TERM_READING,
    ("aethel/arith.py", "_power_of_two_term"): _TERM_READING,
    ("aethel/encoding.py", "KeyPair.generate"): "key generation for tools (testnet init, the "
    "simulator, workloads, benchmarks); no protocol command generates a key: every key the suite "
    "uses is derived from a seed it sends",
    ("aethel/consensus/messages.py", "_WireSized.wire_size"): _BANDWIDTH_MODEL,
    ("aethel/consensus/messages.py", "PrePrepare.wire_size"): _BANDWIDTH_MODEL,
    ("aethel/consensus/block.py", "ProofBlock.wire_size"): _BANDWIDTH_MODEL,
    ("aethel/consensus/catchup.py", "collect_chain_links"): "gathers the chain links a catching-up "
    "replica needs from the other nodes' stores, in the simulator and the suite's own clusters "
    "(harness side, pristine); a served replica is handed its links (catch-up."
    "on_sync_completed_with_chain)",
    ("aethel/consensus/evidence.py", "Evidence.view"): "a convenience no served code reads "
    "(evidence is checked and applied by offender, offence and height)",
    ("aethel/consensus/history.py", "get_history"): "reads a history out of a store for the "
    "harness's histories (conformance/histories.py, pristine) and tools",
    ("aethel/consensus/phases.py", "Machine.allows"): "a query of the phase table for docs and "
    "tests; the replica steps the table, which raises on a transition it lacks",
    ("aethel/consensus/v2/certificate.py", "Certificate.encode"): "the canonical bytes of a "
    "version-2 certificate, which no served command asks for (messages encode their wire form)",
    ("aethel/proofs/judge.py", "generate_standard_mix"): "the harness's and the benchmarks' "
    "workload of the standard mix",
    ("aethel/proofs/mempool.py", "Mempool.remove_stale"): "the node's drop of pending transfers "
    "a commit made stale (refresh_accounts, aethel/node/mempool_source.py); the mempool "
    "capability's remove_committed does not run it",
    ("aethel/proofs/model.py", "parse_proof"): "parses a proof from bytes; only tests call it, "
    "and the capabilities take the JSON form (proof_from_json)",
    ("aethel/proofs/parallel.py", "CacheStats.hit_rate"): "a ratio the verifier capability's "
    "cache_stats does not report (it reports the counts)",
    ("aethel/proofs/parallel.py", "Verifier.verify_block"): "the verifier object's block "
    "method, used by the benchmarks; the capability runs verify_proof_block",
    ("aethel/consensus/history.py", "History.replace"): "builds a history with one link "
    "replaced, for the harness's tampered histories (conformance/histories.py, pristine) and "
    "tests; a served verifier reads the histories it is given",
    ("aethel/proofs/model.py", "compute_proofs_root"): _UNUSED_ROOTS,
    ("aethel/proofs/model.py", "compute_transactions_root"): _UNUSED_ROOTS,
    ("aethel/consensus/replica_core.py", "ReplicaCore.collector_of"): "names the collector of a "
    "view for the simulator's Byzantine behaviours (aethel/sim/byzantine.py); the replica routes "
    "its own votes through _collector_id",
    ("aethel/crypto/bls.py", "aggregate_bytes"): _DRAFT_BYTES,
    ("aethel/crypto/bls.py", "fast_aggregate_verify_bytes"): _DRAFT_BYTES,
    ("aethel/crypto/bls.py", "aggregate_verify_bytes"): _DRAFT_BYTES,
    ("aethel/crypto/bls.py", "hash_to_g2_bytes"): _DRAFT_BYTES,
    ("aethel/proofs/ghost.py", "derive_one_time_seed"): "the one-time seeds of a holder, derived "
    "by the harness's leak scanner (conformance/leaks.py, pristine) to look for them; the served "
    "GhostHolder derives its keys inline",
    ("aethel/consensus/quorum.py", "compute_max_faulty"): "f(n) by count, read by the "
    "simulator's scenarios and the Z3 invariants (I1); the served replica counts stake (q(W))",
    ("aethel/consensus/validators.py", "make_validator_keys"): "derives keys from a seed for "
    "tools (the simulator, the harness's scenes, benchmarks); no protocol command makes keys",
    ("aethel/proofs/judge.py", "get_batch_obligation"): _MIX_ONLY,
    ("aethel/proofs/judge.py", "get_reward_split_obligation"): _MIX_ONLY,
    ("aethel/proofs/mempool.py", "Mempool.add_proved_transaction"): "the node's admission of a "
    "transfer gossiped with its proof (aethel/node/assembly.py); the mempool capability admits "
    "through add_transaction and add_proof",
    ("aethel/proofs/mempool.py", "Mempool.pending"): "lists the pending proofs for tools and "
    "tests; no protocol command reads it (select_for_block is the listing the protocol defines)",
    ("aethel/consensus/validators.py", "ValidatorSet.version"): "names the version of a set's "
    "form for tools; the served code decides a height's version from the activation height",
    ("aethel/encoding.py", "nests_deeper_than"): "runs only where the interpreter's recursion "
    "limit was raised above 1,000 (too_deep_for_the_decoder); a served implementation keeps "
    "the default, and tests/test_deep_nesting.py checks it with the limit raised",
    ("aethel/consensus/history.py", "compute_changes"): "the changes between two states, which "
    "the harness's histories and wire examples (pristine) and get_history (left out) present; a "
    "served verifier reads the changes it is given",
    ("aethel/consensus/replica.py", "Replica.add_message_to_batch"): _BATCH_QUEUE,
    ("aethel/consensus/replica.py", "Replica.flush_message_batch"): _BATCH_QUEUE,
    ("aethel/consensus/votes.py", "AggregateVotes.stake"): "no caller: VIEW-CHANGEs, the one "
    "tally whose total stake is read, are Ed25519 messages in both versions (VoteCollector)",
    ("aethel/crypto/bls.py", "_point_or_none_g2"): _DRAFT_BYTES,
    ("aethel/crypto/bls.py", "core_verify"): _DRAFT_BYTES,
    ("aethel/crypto/bls.py", "pop_verify"): _DRAFT_BYTES,
    ("aethel/merkle/hashing.py", "compute_leaf_hash"): "E8's leaf hash as a function for tests "
    "and mutants; the served tree hashes its leaves inline (aethel/merkle/batch.py)",
    ("aethel/proofs/parallel.py", "ResultCache.__len__"): "no served caller: the verifier "
    "capability's cache_stats reports the size from ResultCache.stats",
    ("aethel/state/sync.py", "InProcessPeer"): "the in-process state-sync peer of the simulator "
    "and the benchmarks (both left out); a served replica is handed its synced state",
}

#: Reasons a single mutation position is left out (type-only or repr-only code).
TYPE_CHECKING_ONLY = "under `if TYPE_CHECKING:` (imports for the type checker; never run)"
PROTOCOL_BODY = "in the body of a typing.Protocol class or an @overload stub (never run)"
REPR_FLAG = (
    "a `repr=` flag of @dataclass or field(): it changes only what repr() prints, and answers "
    "are built from the fields, never from repr (flags of fields holding key material are kept)"
)
#: Fields whose ``repr=False`` keeps key material out of logs: their flags are mutated.
_SECRET_WORDS = ("seed", "secret", "signer", "private")

#: Statement node types: coverage records their first line.
_STATEMENTS = frozenset(
    {
        "simple_stmt",
        "if_stmt",
        "while_stmt",
        "for_stmt",
        "try_stmt",
        "with_stmt",
        "funcdef",
        "classdef",
        "decorated",
        "async_stmt",
        "match_stmt",
    }
)


@dataclass(frozen=True, slots=True)
class MechanicalMutant:
    """One generated mutant of one module."""

    id: str
    module: str
    operator: str
    occurrence: int
    line: int
    lines: tuple[int, ...]
    definition: str
    original: str
    #: First and last line of the innermost enclosing function; (0, 0) at module or class level.
    scope: tuple[int, int] = (0, 0)

    @property
    def kind(self) -> str:
        """The issue's operator kind (boundary, comparison, constant, condition, ...)."""
        return kind_of(self.operator)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "module": self.module,
            "operator": self.operator,
            "occurrence": self.occurrence,
            "line": self.line,
            "lines": list(self.lines),
            "definition": self.definition,
            "original": self.original,
            "scope": list(self.scope),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MechanicalMutant:
        return cls(
            id=data["id"],
            module=data["module"],
            operator=data["operator"],
            occurrence=data["occurrence"],
            line=data["line"],
            lines=tuple(data["lines"]),
            definition=data["definition"],
            original=data["original"],
            scope=(data["scope"][0], data["scope"][1]),
        )


def exclusion_of(module: str) -> str | None:
    """Return why ``module`` is never mutated, or None if it is."""
    matches = [p for p in EXCLUDED_MODULES if module == p or module.startswith(p)]
    return EXCLUDED_MODULES[max(matches, key=len)] if matches else None


def definition_exclusion(module: str, definition: str) -> str | None:
    """Return why ``definition`` of ``module`` is never mutated, or None if it is."""
    for (listed_module, listed), reason in EXCLUDED_DEFINITIONS.items():
        if module == listed_module and (
            definition == listed or definition.startswith(listed + ".")
        ):
            return f"`{listed_module}:{listed}`: {reason}"
    return None


def module_paths(
    paths: Iterable[str], only: Iterable[str] = (), reached: Iterable[str] = ()
) -> list[str]:
    """Return the mutable modules among ``paths`` (``aethel/...``), or those named in ``only``.

    ``only`` takes paths (``aethel/encoding.py``), dotted names (``aethel.encoding``) or
    directories (``aethel/merkle``). ``reached`` names modules the implementation ran in the
    control: an exclusion of such a module is void (its reason no longer holds), so it is mutated.
    """
    kept = set(reached)
    every = sorted(
        p for p in paths if p.endswith(".py") and (not p.startswith(EXCLUDED) or p in kept)
    )
    chosen: list[str] = []
    for name in only:
        matched = [m for m in every if _matches(m, name.strip().rstrip("/"))]
        if not matched:
            raise ValueError(f"no mutable module matches {name!r}")
        chosen += [m for m in matched if m not in chosen]
    return sorted(chosen) if chosen else every


def _matches(module: str, name: str) -> bool:
    dotted = module.removesuffix(".py").replace("/", ".")
    return (
        module == name
        or dotted == name
        or module.startswith(name + "/")
        or (dotted.startswith(name + "."))
    )


def _definition(node: Any) -> str:
    names = []
    current = node.parent
    while current is not None:
        if current.type in ("funcdef", "classdef"):
            names.append(current.name.value)
        current = current.parent
    return ".".join(reversed(names)) or "<module>"


def _scope(node: Any) -> tuple[int, int]:
    current = node.parent
    while current is not None:
        if current.type == "funcdef":
            return current.start_pos[0], current.end_pos[0]
        current = current.parent
    return 0, 0


def _is_type_checking_test(node: Any) -> bool:
    return bool(node.type == "name" and node.value == "TYPE_CHECKING")


def _position_exclusion(node: Any) -> str | None:
    """Return why a mutation of ``node`` is left out (type-only or repr-only code), or None."""
    if _is_type_checking_test(node) or (
        node.type == "if_stmt" and _is_type_checking_test(node.children[1])
    ):
        return TYPE_CHECKING_ONLY
    if node.type in ("keyword", "name") and node.value in ("True", "False"):
        argument = node.parent
        if (
            argument is not None
            and argument.type == "argument"
            and argument.children[0].type == "name"
            and argument.children[0].value == "repr"
            and not _holds_secret(argument)
        ):
            return REPR_FLAG
    current = node.parent
    while current is not None:
        if current.type == "if_stmt" and _is_type_checking_test(current.children[1]):
            return TYPE_CHECKING_ONLY
        if current.type == "classdef" and _is_protocol_class(current):
            return PROTOCOL_BODY
        if current.type == "funcdef" and _is_overload(current):
            return PROTOCOL_BODY
        current = current.parent
    return None


def _holds_secret(argument: Any) -> bool:
    """Return True if the ``field(...)`` call holding ``argument`` defines a secret's field."""
    current = argument.parent
    while current is not None and current.type not in ("expr_stmt", "simple_stmt"):
        current = current.parent
    target = current.children[0].get_code() if current is not None else ""
    return any(word in target.lower() for word in _SECRET_WORDS)


def _leaves(node: Any) -> Iterator[Any]:
    if hasattr(node, "children"):
        for child in node.children:
            yield from _leaves(child)
    else:
        yield node


def _is_protocol_class(classdef: Any) -> bool:
    arglist = classdef.get_super_arglist()
    if arglist is None:
        return False
    names = {leaf.value for leaf in _leaves(arglist) if leaf.type == "name"}
    return "Protocol" in names


def _is_overload(funcdef: Any) -> bool:
    decorated = funcdef.parent
    if decorated is None or decorated.type != "decorated":
        return False
    return any("overload" in d.get_code() for d in decorated.children[:-1])


def _statement(node: Any) -> Any:
    current = node
    while current is not None and current.type not in _STATEMENTS:
        current = current.parent
    return current


def enumerate_module(
    module: str, source: str, excluded: Counter[str] | None = None
) -> list[MechanicalMutant]:
    """Return every mutant of one module's source, in operator order then position order.

    Positions in type-only or repr-only code are left out (counted by reason in ``excluded``);
    they still count as occurrences, so each mutant's ``occurrence`` is cosmic-ray's.
    """
    module_tree = parso.parse(source)
    source_lines = source.splitlines()
    found: list[MechanicalMutant] = []
    seen: Counter[str] = Counter()
    for name in operator_names():
        operator = make_operator(name)
        occurrence = 0
        for node in ast_nodes(module_tree):
            for index, (start, end) in enumerate(operator.mutation_positions(node)):
                reason = _position_exclusion(node)
                if reason is not None:
                    occurrence += 1
                    if excluded is not None:
                        excluded[reason] += 1
                    continue
                statement = _statement(node)
                first = statement.start_pos[0] if statement is not None else start[0]
                line_text = source_lines[first - 1].strip() if first <= len(source_lines) else ""
                definition = _definition(node)
                key = "|".join((module, definition, name, line_text, node.get_code(), str(index)))
                seen[key] += 1
                digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:8]
                lines = sorted({first, *range(start[0], end[0] + 1)})
                found.append(
                    MechanicalMutant(
                        id=f"{module}:{definition}:{name}:{digest}",
                        module=module,
                        operator=name,
                        occurrence=occurrence,
                        line=start[0],
                        lines=tuple(lines),
                        definition=definition,
                        original=source_lines[start[0] - 1].strip(),
                        scope=_scope(node),
                    )
                )
                occurrence += 1
    return found


def enumerate_mutants(
    sources: dict[str, str], modules: Iterable[str], excluded: Counter[str] | None = None
) -> list[MechanicalMutant]:
    """Return the mutants of ``modules`` (``sources`` maps each path to its text)."""
    found: list[MechanicalMutant] = []
    for module in modules:
        found += enumerate_module(module, sources[module], excluded)
    return found


def apply_mutant(source: str, mutant: MechanicalMutant) -> str | None:
    """Return the module source with ``mutant`` applied, or None if it cannot be applied.

    None also when cosmic-ray's operator fails on the node (its ExceptionReplacer does on a
    dotted name in a tuple, ``except (a.B, C)``) or the result does not compile: such a mutant is
    reported as incompetent, not run.
    """
    try:
        mutated: str | None = MutationVisitor.mutate_code(
            source, make_operator(mutant.operator), mutant.occurrence
        )
        if mutated is None or mutated == source:
            return None
        compile(mutated, mutant.module, "exec")
    except (AttributeError, AssertionError, SyntaxError, ValueError):
        return None
    return mutated


def changed_line(original: str, mutated: str) -> tuple[int, str]:
    """Return the first line that differs and its mutated text (for reports)."""
    for number, (a, b) in enumerate(
        zip(original.splitlines(), mutated.splitlines(), strict=False), start=1
    ):
        if a != b:
            return number, b.strip()
    return 0, ""


def sample(mutants: list[MechanicalMutant], size: int, seed: int) -> list[MechanicalMutant]:
    """Return ``size`` mutants chosen by ``seed`` (the same seed, the same sample), in ID order."""
    if size <= 0 or size >= len(mutants):
        return list(mutants)
    ranked = sorted(mutants, key=lambda m: hashlib.sha256(f"{seed}|{m.id}".encode()).hexdigest())
    return sorted(ranked[:size], key=lambda m: m.id)


def iter_kinds(mutants: Iterable[MechanicalMutant]) -> Iterator[tuple[str, int]]:
    """Yield (kind, count) over ``mutants``."""
    counts = Counter(m.kind for m in mutants)
    yield from sorted(counts.items())
