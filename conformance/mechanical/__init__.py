"""Mechanical mutation testing of the reference, as a self-test of the suite.

``aethel-conformance selftest --mechanical [--module M] [--sample N] [--seed S]`` generates
mutants of ``aethel/`` (benchmarks and command-line modules aside), serves each mutated reference
over the subprocess protocol, and runs against it the suite cases that can reach the mutated
line. A mutant is killed when a case that passed in the control run fails (fail, error or
timeout) against it; a mutant that hangs is killed by timeout. The report gives the score per
module, per spec area and per operator kind (``reports/selftest/``).

Tool: cosmic-ray 8.7.0, used as a library
-----------------------------------------
Both mutmut and cosmic-ray install and run on Python 3.11 here. cosmic-ray was chosen because:

* Its operators are separate classes per mutation (``ReplaceComparisonOperator_Lt_LtE``,
  ``NumberReplacer``, ``AddNot``, ...), so a campaign picks exactly the issue's kinds; mutmut 3
  applies its whole fixed set (string mutations ``"XX" + s + "XX"``, argument removal, ...),
  which would multiply the mutants without matching the issue's list.
* It has a documented operator interface (``Operator.mutation_positions`` / ``mutate`` over a
  parso tree) and applies one occurrence of one operator to a source text
  (``cosmic_ray.mutating.MutationVisitor.mutate_code``), so a mutated copy of a module can be
  written anywhere. mutmut 3 instead rewrites every function into a trampoline selected by an
  environment variable and must run the tests in its own forked pytest process, which cannot
  drive an implementation that runs in a separate process behind the subprocess protocol.
* Neither tool's runner fits: cosmic-ray's ``exec`` mutates the module in place in the working
  tree (where the harness and other engineers' code live) and runs one fixed test command per
  mutant; mutmut runs tests in its own process. So we use cosmic-ray's enumeration
  (``cosmic_ray.ast.ast_nodes`` and each operator's ``mutation_positions``, counted as its
  ``init`` counts occurrences) and its ``MutationVisitor`` to apply a mutant, and our own runner
  (:mod:`conformance.mechanical.campaign`) to serve the mutant and choose the cases.

What is ours: the runner, the case selection by coverage, and two operators that neither tool
has, written on cosmic-ray's ``Operator`` interface and applied by its visitor
(:mod:`conformance.mechanical.operators`): removing a statement and removing a ``raise`` or a
``return`` (each replaced by ``pass``). Every other operator is cosmic-ray's, by name.

Modules: :mod:`.operators` (the operator set), :mod:`.generate` (enumerate, identify, apply),
:mod:`.workspace` (snapshot and served copies), :mod:`.serve` (the implementation process),
:mod:`.caseplugin` and :mod:`.coverage_map` (which cases reach which lines), :mod:`.execute` (run
chosen cases), :mod:`.campaign` (control, tasks, dask, resume), :mod:`.triage` (the equivalent
list), :mod:`.report` (scores), :mod:`.sweep` (the simulator's seed sweep on the same cluster).
"""
