"""Cost-model inference speed: schedules scored per second by `ModelEvaluator.score` (a benchmark, not a test).

    python benchmarks/inference_speed.py [--model model.pt] [--kernels gemm,2mm,jacobi-2d,...] [--count 2000]

Candidates are made the way the beam search makes them (one decision of each phase applied to the
identity and to a few of its children), lowered first as the search does for fingerprints and
legality, then scored in one call. Reported: features only, model forward only (with batching), and
both (score()), wall-clock; and score() per CPU-second of this process, which is what an idle machine
would give when other jobs share the CPUs.
Without --model an untrained network of the default size is timed (speed does not depend on weights).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from costmodel.features import Featurizer, collate
from costmodel.inference import ModelEvaluator, load_model, threads
from costmodel.model import CostModel
from frontend import read_scop
from looper.deps import compute_dependences
from looper.schedule import Schedule, ScheduleError
from looper.search.candidates import Space, levels
from polybench.manifest import KERNELS, UTILITIES

DEFAULT_KERNELS = "gemm,2mm,syrk,jacobi-2d,heat-3d,correlation,doitgen,lu"


def candidates(scop, count: int) -> list[Schedule]:
    """Up to `count` distinct lowered schedules, one or two decisions away from the identity."""
    space, deps = Space(), compute_dependences(scop)
    found: dict[str, Schedule] = {}
    frontier = [Schedule(scop)]
    for _, generate in levels(space):
        nxt = []
        for parent in frontier[:4]:
            for steps in generate(parent, space, deps):
                s = parent.then(*steps)
                try:
                    key = s.fingerprint()
                except ScheduleError:
                    continue
                if key not in found:
                    found[key] = s
                    nxt.append(s)
                if len(found) >= count:
                    return list(found.values())
        frontier = nxt or frontier
    return list(found.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="checkpoint (default: an untrained default-size model)")
    ap.add_argument("--kernels", default=DEFAULT_KERNELS, help="comma-separated PolyBench kernels")
    ap.add_argument("--count", type=int, default=2000, help="schedules per kernel")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    model = load_model(args.model) if args.model else CostModel().eval()
    kernels = {k.name: k for k in (KERNELS.values() if isinstance(KERNELS, dict) else KERNELS)}
    rates, cpu_rates = [], []
    print(f"{'kernel':<14}{'schedules':>10}{'features/s':>12}{'model/s':>12}{'score()/s':>12}{'per CPU-s':>14}")
    for name in args.kernels.split(","):
        kernel = kernels[name]
        scop = read_scop(kernel.source, include_dirs=[UTILITIES], defines={"LARGE_DATASET": None})
        schedules = candidates(scop, args.count)
        lowered = [s.lowered for s in schedules]  # the search has lowered every candidate before scoring it
        assert len(lowered) == len(schedules)
        evaluator = ModelEvaluator(model)
        evaluator.score(schedules[:8])  # warm the program cache, as the search's first call does
        feat, fwd, total, cpu = [], [], [], []
        for _ in range(args.repeat):
            fz = Featurizer()
            fz.program(scop)
            t0 = time.perf_counter()
            samples = fz.schedules(schedules)
            t1 = time.perf_counter()
            with threads(1), torch.no_grad():
                model(collate(samples))
            t2 = time.perf_counter()
            evaluator.featurizer = Featurizer()
            evaluator.featurizer.program(scop)
            t3 = time.perf_counter()
            c3 = time.process_time()
            evaluator.score(schedules)
            t4 = time.perf_counter()
            cpu.append(time.process_time() - c3)
            feat.append(t1 - t0)
            fwd.append(t2 - t1)
            total.append(t4 - t3)
        n = len(schedules)
        rate = n / statistics.median(total)
        rates.append(rate)
        cpu_rates.append(n / statistics.median(cpu))
        print(f"{name:<14}{n:>10}{n / statistics.median(feat):>12.0f}{n / statistics.median(fwd):>12.0f}"
              f"{rate:>12.0f}{cpu_rates[-1]:>14.0f}")
    print(f"median score() rate: {statistics.median(rates):.0f} schedules/s wall-clock, "
          f"{statistics.median(cpu_rates):.0f} per CPU-second of this process "
          f"(cold caches per repeat; torch threads 1; {torch.__version__})")
    print(f"machine load: {load_note()}")


def load_note() -> str:
    """The load average and a pure-Python calibration loop, to read the rates against."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return (f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; 2M Python additions took "
            f"{time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
