"""Validator processes on loopback: throughput at saturation and finality at light load.

For 4, 7 and 16 validators (``--quick``: 4 only) a fresh testnet of real ``aethel node run``
processes is started (:mod:`aethel.node.testnet`) and loaded by ``aethel testnet load``'s
generator (:mod:`aethel.node.load`: signed transfers with their judge proofs, proved before the
clock starts):

* ``testnet_N_finality_p50_ms`` / ``_p99_ms``: 10 transfers/s for 20 s; each transfer's time
  from its submission to the moment a client following the chain sees the block that holds it;
* ``testnet_N_committed_per_s``: transfers offered at twice the bound for 20 s (a saturated node
  answers 429 and the generator sends again: closed loop at the limit), committed transfers per
  second of the sending window;
* ``testnet_N_bound_per_s``: the bound the issue states, (cores x one core's verification rate)
  / N, because every validator re-verifies every proof (R1.1) and all N share this machine's
  cores. One core's rate is measured here first, on the same transfer proofs, in fresh Z3
  contexts as the node verifies them, per CPU second (the wall-clock rate is in its note: on a
  shared machine it also measures the other jobs).
* What bounds the result, from the CPU time of the N validator processes over the saturating
  load's sending window (read from the OS every 0.2 s): ``testnet_N_cpu_ms_per_committed``, their
  CPU time per transfer committed in the window; ``testnet_N_verification_share``, the bound's
  work (N verifications at one core's measured rate) as a share of it; and
  ``testnet_N_machine_share``, their CPU time as a share of the machine's (cores x window; the
  rest went to the load generator, other processes, or idle). The share of the bound reached is
  the product of the last two, so a missed goal says whether the validators spend their CPU
  on work other than verification or do not get the machine.

Goals (issue 16): at 4 validators committed >= 70% of the bound, finality p50 <= 100 ms at
10 transfers/s. Nothing is extrapolated: every number is a run of the stated size. The machine's
load average before and after each run is in the notes (the machine may be shared).
"""

from __future__ import annotations

import asyncio
import bisect
import os
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

from aethel.bench import Result
from aethel.encoding import KeyPair
from aethel.node import testnet as nets
from aethel.node.load import LoadReport, run_load
from aethel.proofs.judge import Judge
from aethel.proofs.model import sign_transfer
from aethel.proofs.verifier import verify_proof

DESCRIPTION = (
    "validator processes on loopback: committed transfers/s at saturation and finality at "
    "10 transfers/s, beside the bound (cores x one core's verification rate / validators)"
)
SIZES = (4, 7, 16)
LIGHT_RATE = 10.0
DURATION_S = 20.0


def measure_verification_rate(count: int = 400) -> tuple[float, float]:
    """One core's rate of verifying transfer proofs (each in a fresh Z3 context): proofs per CPU
    second of this thread, and per second of wall time (the best of two passes each).

    The bound uses the first: on a machine other jobs share, the wall-clock rate also measures
    how much of a core this process got, which the validators' machine share reports apart.
    """
    rng = random.Random(16)
    judge = Judge(KeyPair.generate(rng))
    sender, receiver = KeyPair.generate(rng), KeyPair.generate(rng)
    proofs = [
        judge.prove_transfer(
            sign_transfer(sender, receiver=receiver.public_key, amount=1 + i % 90, nonce=i),
            10**12,
            i,
        )
        for i in range(count)
    ]
    best_cpu = best_wall = float("inf")
    for _ in range(2):
        cpu, wall = time.thread_time(), time.perf_counter()
        for proof in proofs:
            verify_proof(proof)
        best_cpu = min(best_cpu, time.thread_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return count / best_cpu, count / best_wall


def _load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def _wait_committing(net: nets.Testnet, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = asyncio.run(nets.gather_status(net))
        if all(s is not None and int(s["height"]) >= 2 for s in statuses.values()):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the {len(net.nodes)}-validator testnet did not commit in {timeout} s")


#: How often the validators' CPU time is read during the saturating load (seconds).
CPU_SAMPLE_S = 0.2


def cpu_between(samples: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """Return the CPU seconds spent between ``start`` and ``end`` from ``(time, cumulative CPU
    seconds)`` samples in time order, interpolating linearly between the samples around each
    end; raise ValueError if the samples do not cover [start, end]."""
    times = [moment for moment, _ in samples]
    if not samples or start > end or start < times[0] or end > times[-1]:
        raise ValueError("the CPU samples do not cover the window")

    def at(moment: float) -> float:
        index = bisect.bisect_left(times, moment)
        if times[index] == moment:
            return samples[index][1]
        (t0, c0), (t1, c1) = samples[index - 1], samples[index]
        return c0 + (c1 - c0) * (moment - t0) / (t1 - t0)

    return at(end) - at(start)


async def _saturate(net: nets.Testnet, offered: float, duration: float) -> tuple[LoadReport, float]:
    """Run the saturating load; return its report and the validators' CPU seconds over its
    sending window (user and system time of every node process, read from the OS)."""
    processes = [psutil.Process(int(entry["pid"])) for entry in nets.read_pids(net).values()]
    samples: list[tuple[float, float]] = []

    def read() -> None:
        total = 0.0
        for process in processes:
            times = process.cpu_times()
            total += times.user + times.system
        samples.append((time.monotonic(), total))

    async def sample() -> None:
        while True:
            read()
            await asyncio.sleep(CPU_SAMPLE_S)

    task = asyncio.create_task(sample())
    try:
        heavy = await run_load(net, offered, duration, drain=10.0, seed=2)
    finally:
        task.cancel()
    read()
    if heavy.window_end <= heavy.window_start:  # nothing was committed: no window
        return heavy, 0.0
    return heavy, cpu_between(samples, heavy.window_start, heavy.window_end)


def _cpu_results(
    prefix: str, validators: int, rate: float, heavy: LoadReport, cpu_s: float
) -> list[Result]:
    """The rows saying what bounds the saturated result (see the module docstring)."""
    window = heavy.window_end - heavy.window_start
    committed = heavy.committed_per_s * window
    if window <= 0 or committed <= 0:
        return []
    cores = os.cpu_count() or 1
    per_committed = 1000 * cpu_s / committed
    verification = validators * 1000 / rate
    return [
        Result(
            f"{prefix}_cpu_ms_per_committed",
            round(per_committed, 2),
            "ms",
            note=(
                f"CPU time of the {validators} validator processes in the {window:.1f} s sending "
                f"window ({cpu_s:.1f} s) per transfer committed in it ({committed:.0f})"
            ),
        ),
        Result(
            f"{prefix}_verification_share",
            round(100 * verification / per_committed, 1),
            "%",
            better="higher",
            note=(
                f"{validators} verifications at one core's rate ({verification:.2f} ms) of that: "
                "the rest is the validators' other work per transfer"
            ),
        ),
        Result(
            f"{prefix}_machine_share",
            round(100 * cpu_s / (cores * window), 1),
            "%",
            better="higher",
            note=(
                f"the validators' CPU time of the machine's ({cores} cores x the window); share of "
                "the bound reached = verification share x this"
            ),
        ),
    ]


def measure_size(validators: int, bound: float, duration: float, rate: float) -> list[Result]:
    """Start a testnet of ``validators`` processes, run the light and the saturating load."""
    directory = Path(tempfile.mkdtemp(prefix=f"aethel-bench-{validators}-"))
    net = nets.init_testnet(directory / "net", validators, accounts=256)
    try:
        nets.start_testnet(net)
        _wait_committing(net)
        load_before = _load_average()
        light = asyncio.run(run_load(net, LIGHT_RATE, duration, drain=30.0, accounts=64, seed=1))
        offered = max(2 * bound, 20.0)
        heavy, cpu_s = asyncio.run(_saturate(net, offered, duration))
        load_after = _load_average()
    finally:
        nets.stop_testnet(net, grace=20)
        shutil.rmtree(directory, ignore_errors=True)
    prefix = f"testnet_{validators}"
    is_goal_size = validators == 4
    heavy_json = heavy.to_json()
    light_note = (
        f"{light.committed}/{light.submitted} committed at {LIGHT_RATE}/s for {duration} s; "
        f"load average {load_before} before, {load_after} after"
    )
    heavy_note = (
        f"offered {offered:.0f}/s for {duration} s: {heavy.acknowledged} acknowledged, "
        f"{heavy.busy_retries} 429 answers sent again, refused {heavy_json['refused'] or 'none'}"
        f", finality p50 {heavy_json['latency_ms']['p50']} ms at saturation"
    )
    p50, p99 = light.percentile(0.5), light.percentile(0.99)
    return [
        Result(
            f"{prefix}_committed_per_s",
            round(heavy.committed_per_s, 1),
            "transfers/s",
            goal=round(0.7 * bound, 1) if is_goal_size else None,
            better="higher",
            note=heavy_note,
        ),
        Result(f"{prefix}_bound_per_s", round(bound, 1), "transfers/s", better="higher"),
        Result(
            f"{prefix}_finality_p50_ms",
            float("nan") if p50 is None else p50,
            "ms",
            goal=100.0 if is_goal_size else None,
            note=light_note,
        ),
        Result(f"{prefix}_finality_p99_ms", float("nan") if p99 is None else p99, "ms"),
        *_cpu_results(prefix, validators, rate, heavy, cpu_s),
    ]


def run(quick: bool) -> list[Result]:
    """Measure one core's verification rate, then every size."""
    cores = os.cpu_count() or 1
    rate, wall_rate = measure_verification_rate()
    results = [
        Result(
            "verification_per_s_1_core",
            round(rate, 1),
            "proofs/s",
            better="higher",
            note=(
                f"transfer proofs, fresh Z3 context each, per CPU second ({wall_rate:.1f} per "
                f"wall-clock second; load average {_load_average()}); {cores} cores here"
            ),
        )
    ]
    for validators in SIZES[:1] if quick else SIZES:
        bound = cores * rate / validators
        duration = DURATION_S / 2 if quick else DURATION_S
        results.extend(measure_size(validators, bound, duration, rate))
    return results
