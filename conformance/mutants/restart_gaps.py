"""Mutants for the gaps the module campaign of aethel/consensus/replica_core.py found: each is
the way an outsider's replica could set itself up wrong, on a restart or around the activation
height, caught by the case written for the mechanical survivors
(reports/selftest/triage-module-replica-core-d312549.md).

* ``restart-votes-with-the-configured-stakes``: a node restarted on its store takes its chain
  position from the store (height, parent, root, last certificate) and its voting weights from
  the validator set it was configured with, so a slashing its chain applied is forgotten
  (R4.3); caught by suite/test_reopened_after_slashing.py.
* ``restart-checks-the-parent-by-the-latest-stakes``: a restarted node checks the last commit
  of the next block by the stakes of its latest state, as if its latest block had slashed
  nobody (R2.3: the set before that block's slashing signed its certificate); caught by
  suite/test_reopened_after_slashing.py::
  test_a_replica_reopened_on_the_slashing_block_checks_it_by_the_set_that_signed_it.
* ``v2-activation-read-from-the-genesis-only``: the activation height is read from the
  genesis's ``protocol_v2_height`` alone; a network that names it in its version-2 validator
  set (``first_height``) stays in version 1 at this node (V2.1); caught by suite/
  test_replica_v2.py::test_the_version_changes_at_the_activation_height[validator-set].
* ``v2-collector-rule-below-the-activation-height``: once the validator set is of version 2,
  votes go to the collector of V2.10 at every height, also below the activation height where
  the leader collects (V2.1, R2.2); caught by suite/test_replica_v2.py::
  test_below_the_activation_height_the_leader_collects.
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation, restarting_implementation


class ConfiguredStakes(Replica):
    """Defect: voting weights come from the configured validator set, whatever the store says."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators = self.parent_validators = self.epoch_validators


class ParentByLatestStakes(Replica):
    """Defect: after a restart the parent certificate is checked by the latest state's stakes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parent_validators = self.validators


class ActivationFromGenesisOnly(Replica):
    """Defect: only the genesis's ``protocol_v2_height`` names the activation height."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.protocol_v2_height is None:
            self.activation = None


class CollectorRuleAtEveryHeight(Replica):
    """Defect: a version-2 set's collector rule (V2.10) is used at every height."""

    def _collector_id(self, view: int) -> str:
        v2 = self.validators.v2
        if v2 is None:
            return self._leader_id(view)
        leader = v2.roster.index[self._leader_id(view)]
        return v2.roster.members[v2.collector(self.validators.seed, self.height, view, leader)].id


ConfiguredStakesImplementation = restarting_implementation(
    "ConfiguredStakesImplementation", __name__, ConfiguredStakes
)
ParentByLatestStakesImplementation = restarting_implementation(
    "ParentByLatestStakesImplementation", __name__, ParentByLatestStakes
)
ActivationFromGenesisOnlyImplementation = replica_implementation(
    "ActivationFromGenesisOnlyImplementation", __name__, replica_class=ActivationFromGenesisOnly
)
CollectorRuleAtEveryHeightImplementation = replica_implementation(
    "CollectorRuleAtEveryHeightImplementation", __name__, replica_class=CollectorRuleAtEveryHeight
)

MUTANTS = [
    Mutant(
        name="restart-votes-with-the-configured-stakes",
        defect="a restarted node votes with the configured set's stakes, not its state's",
        breaks=("R4.3",),
        capabilities=("replica", "vote-journal"),
        build=ConfiguredStakesImplementation,
    ),
    Mutant(
        name="restart-checks-the-parent-by-the-latest-stakes",
        defect="a restarted node checks the parent certificate by its latest state's stakes",
        breaks=("R2.3",),
        capabilities=("replica", "vote-journal"),
        build=ParentByLatestStakesImplementation,
    ),
    Mutant(
        name="v2-activation-read-from-the-genesis-only",
        defect="the activation height is read from the genesis alone, not the version-2 set",
        breaks=("V2.1",),
        capabilities=("replica",),
        build=ActivationFromGenesisOnlyImplementation,
    ),
    Mutant(
        name="v2-collector-rule-below-the-activation-height",
        defect="a version-2 set's collector rule is used below the activation height too",
        breaks=("V2.1",),
        capabilities=("replica",),
        build=CollectorRuleAtEveryHeightImplementation,
    ),
]
