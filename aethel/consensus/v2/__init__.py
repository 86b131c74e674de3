"""Protocol version 2 of consensus (spec/consensus-v2.md), as pure functions the replica will use.

* :mod:`.version`: which version a height runs (V2.1);
* :mod:`.roster`: a height's members with their kept BLS keys, registered with proofs of
  possession (V2.4, V2.6);
* :mod:`.certificate`: the vote bytes (V2.3), the aggregate certificate, its canonical encoding
  and its check (V2.7, V2.8);
* :mod:`.aggregation`: a collector's optimistic aggregation with the search for bad votes (V2.9);
* :mod:`.collector`: who collects a height and view, and the zero-CPU floor it gives (V2.10,
  V2.11).

The replica does not use them yet (its integration follows the redesign of issue 18); each module
takes plain values (a :class:`~.roster.Roster`, bytes, integers) so it does not depend on the
replica's structure.
"""
