"""One fixture per capability: the implementation's API object for it.

Each skips (with the reason) when the implementation does not declare the capability. Cases also
carry ``@pytest.mark.capability(...)`` (usually as the module's ``pytestmark``) so selection by
capability and the report know what they need.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from conformance.adapters.api import (
    EconomicsAPI,
    EncodingAPI,
    GhostAPI,
    HistoryAPI,
    Implementation,
    ListHashAPI,
    MempoolAPI,
    MonitoringAPI,
    ReplicaAPI,
    StateStoreAPI,
    StateTreeAPI,
    SyncAPI,
    VerifierAPI,
)


def get_api(impl: Implementation, capability: str) -> Any:
    """Return ``impl``'s API for ``capability`` or skip the case with the reason."""
    if capability not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare capability {capability}")
    return impl.api(capability)


@pytest.fixture(scope="session")
def encoding_api(impl: Implementation) -> EncodingAPI:
    return cast(EncodingAPI, get_api(impl, "encoding"))


@pytest.fixture(scope="session")
def list_hash_api(impl: Implementation) -> ListHashAPI:
    return cast(ListHashAPI, get_api(impl, "list-hash"))


@pytest.fixture(scope="session")
def economics_api(impl: Implementation) -> EconomicsAPI:
    return cast(EconomicsAPI, get_api(impl, "economics"))


@pytest.fixture(scope="session")
def replica_api(impl: Implementation) -> ReplicaAPI:
    return cast(ReplicaAPI, get_api(impl, "replica"))


@pytest.fixture(scope="session")
def state_tree_api(impl: Implementation) -> StateTreeAPI:
    return cast(StateTreeAPI, get_api(impl, "state-tree"))


@pytest.fixture(scope="session")
def verifier_api(impl: Implementation) -> VerifierAPI:
    return cast(VerifierAPI, get_api(impl, "verifier"))


@pytest.fixture(scope="session")
def mempool_api(impl: Implementation) -> MempoolAPI:
    return cast(MempoolAPI, get_api(impl, "mempool"))


@pytest.fixture(scope="session")
def state_store_api(impl: Implementation) -> StateStoreAPI:
    return cast(StateStoreAPI, get_api(impl, "state-store"))


@pytest.fixture(scope="session")
def sync_api(impl: Implementation) -> SyncAPI:
    return cast(SyncAPI, get_api(impl, "sync"))


@pytest.fixture(scope="session")
def monitoring_api(impl: Implementation) -> MonitoringAPI:
    return cast(MonitoringAPI, get_api(impl, "monitoring"))


@pytest.fixture(scope="session")
def ghost_api(impl: Implementation) -> GhostAPI:
    return cast(GhostAPI, get_api(impl, "ghost"))


@pytest.fixture(scope="session")
def history_api(impl: Implementation) -> HistoryAPI:
    return cast(HistoryAPI, get_api(impl, "history"))
