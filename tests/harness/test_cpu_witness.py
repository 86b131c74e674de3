"""The CPU witness behind inconclusive wall-clock cases: own work is own, others' is foreign."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from conformance.cpu_witness import FOREIGN_SHARE_LIMIT, CpuWitness

BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_of_reaped_pool_workers_counts_as_own() -> None:
    witness = CpuWitness()
    with ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(_burn, 0.6).result()
    # The worker is gone; its CPU time lives on in this process's reaped-children times.
    assert witness.own_s() >= 0.5


def test_an_orphaned_busy_process_is_foreign() -> None:
    seconds = 1.0
    # `sh` exits at once, so the busy interpreter is reparented away from this process tree.
    code = BURN.format(s=seconds)
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "$0" &', code], check=True)
    witness = CpuWitness()
    time.sleep(seconds * 0.8)
    # One busy core out of the machine's, at least, minus start-up slack.
    assert witness.foreign_share() > min(0.5 / witness.cores, FOREIGN_SHARE_LIMIT * 2)
