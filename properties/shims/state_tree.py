"""LOCAL SHIM: the ``state-tree`` capability over :class:`aethel.merkle.StateTree`.

Same shape as the adapter's ``StateTreeAPI`` / ``StateTreeObject`` (conformance/adapters/api.py):
``new(cache_size)`` makes a tree object, ``verify_proof(proof, root)`` checks a proof. A
``tree_class`` argument swaps in a mutant subclass of the reference tree.
"""

from __future__ import annotations

from typing import Any

from aethel.merkle import DELETE, StateTree, proof_from_dict, verify_proof

JSON = Any


class ReferenceStateTreeObject:
    """One tree: the adapter's ``StateTreeObject`` methods over a reference tree."""

    def __init__(self, tree: StateTree) -> None:
        self._tree = tree

    def update(self, key: str, value: JSON) -> str:
        return self._tree.update(key, value).hex()

    def delete(self, key: str) -> str:
        return self._tree.delete(key).hex()

    def batch_update(self, ops: list[JSON]) -> str:
        pairs = [(op["key"], DELETE if op["op"] == "delete" else op["value"]) for op in ops]
        return self._tree.batch_update(pairs).hex()

    def get(self, key: str) -> JSON:
        if not self._tree.has(key):
            return {"found": False}
        return {"found": True, "value": self._tree.get(key)}

    def root(self) -> str:
        return self._tree.root().hex()

    def prove(self, key: str) -> JSON:
        return self._tree.prove(key).to_dict()

    def get_cache_stats(self) -> JSON:
        stats = self._tree.get_cache_stats()
        return {
            "hits": stats.hits,
            "misses": stats.misses,
            "hit_rate": stats.hit_rate,
            "size": stats.size,
            "max_size": stats.max_size,
        }


class ReferenceStateTreeAPI:
    """The adapter's ``StateTreeAPI`` over the reference (or a mutant tree class)."""

    def __init__(self, tree_class: type[StateTree] = StateTree) -> None:
        self._tree_class = tree_class

    def new(self, cache_size: int | None = None) -> ReferenceStateTreeObject:
        tree = self._tree_class() if cache_size is None else self._tree_class(cache_size=cache_size)
        return ReferenceStateTreeObject(tree)

    def verify_proof(self, proof: JSON, root: str) -> bool:
        return verify_proof(proof_from_dict(proof), bytes.fromhex(root))
