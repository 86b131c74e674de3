"""The suite's pytest set-up: the hooks and fixtures of :mod:`conformance.plugin`.

They are imported here (not listed in ``pytest_plugins``) so the suite runs both alone
(``aethel-conformance run``) and collected beside the project's other tests (``spec coverage``).
"""

from conformance.plugin import (  # noqa: F401
    _capability_gate,
    impl,
    measure,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_makereport,
    seed,
)
from conformance.suite.fixtures import (  # noqa: F401
    economics_api,
    encoding_api,
    ghost_api,
    history_api,
    list_hash_api,
    mempool_api,
    monitoring_api,
    replica_api,
    state_store_api,
    state_tree_api,
    sync_api,
    verifier_api,
)
