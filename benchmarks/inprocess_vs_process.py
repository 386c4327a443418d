"""Do in-process labels rank schedules as labels taken one process per run do?

For the first programs of a data set labelled by the measurement harness (in-process: one library,
variants as functions, run in a worker), the same `ok` schedules are timed again the old way: each
variant built as its own executable with PolyBench's harness, one process per run, with the same
policy (interleaved rounds, the original in every round, adaptive repetition, same statistic).
Reported per program: the Spearman of the two labellings and the pairwise agreement on pairs more
than 10% apart (costmodel.agreement's definitions), for all, serial and parallel schedules.

    python benchmarks/inprocess_vs_process.py --data run1.db --programs 8 [--repeat 5] [--out process.db]

Where the two labellings disagree, which is right: time the same programs once more, longer, one
process per run (`--repeat 20 --out long.db`), then `--arbitrate long.db` on the first two: over the
pairs of schedules both order more than 10% apart, but oppositely, how often the long run sides with
each (or puts the pair within 10%).

    python benchmarks/inprocess_vs_process.py --data run1.db --out process.db --arbitrate long.db
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codegen.ast_c import generate
from codegen.build import compile_text
from codegen.harness import Policy, harness_sources, measure, program_timer
from codegen.splice import region_code, splice
from costmodel.agreement import Labels, agreement, format_agreement, read
from costmodel.dataset import ok_samples, open_db, programs
from costmodel.evaluate import APART
from costmodel.labels import COMPILER, DEFINES, Sample
from costmodel.remeasure import stored_schedules
from costmodel.samplestore import store

PROCESS_HARNESS = "process-per-run"


def time_as_processes(data: Path, out: Path, count: int, repeat: int) -> None:
    """Label the first `count` programs' ok schedules of `data` one process per run, into `out`."""
    conn = open_db(data, create=False)
    progs, grouped = programs(conn), ok_samples(conn, None)
    conn.close()
    for key in list(grouped)[:count]:
        spec, schedules = stored_schedules(progs[key], grouped[key])
        extra, dirs = harness_sources(spec.source, [])
        compiler = COMPILER.with_(include_dirs=tuple(dirs), defines={**spec.defines, **DEFINES, "POLYBENCH_TIME": None})
        texts = [spec.source] + [splice(spec.source, [(s.scop, region_code(spec.source, s.scop, generate(s)))])
                                 for s in schedules]
        binaries = [compile_text(t, compiler, name="process-label", extra_sources=extra) for t in texts]
        results = measure([program_timer(b, timeout=60.0) for b in binaries], Policy.from_repeat(repeat))
        base = results[0]
        samples = []
        for s, r in zip(schedules, results[1:], strict=True):
            sample = Sample(s.fingerprint(), json.dumps(s.to_json()), r.status, times=r.times, runs=len(r.times),
                            harness=PROCESS_HARNESS)
            if r.seconds and base.seconds:
                sample.speedup, sample.median_s, sample.baseline_s = base.seconds / r.seconds, r.seconds, base.seconds
                sample.spread = r.spread
            samples.append(sample)
        store(out, spec, samples, "process-per-run " + " ".join(compiler.arguments()), requested=len(samples))
        print(f"{spec.name}: {len(samples)} schedules", file=sys.stderr)


def arbitrate(inproc: Labels, process: Labels, reference: Labels) -> dict[str, int]:
    """Pairs the two labellings order oppositely, each more than APART apart, by the reference's verdict."""
    verdicts = {"pairs": 0, "in-process": 0, "process-per-run": 0, "within": 0}
    for key in inproc.keys() & process.keys() & reference.keys():
        common = sorted(inproc[key].keys() & process[key].keys() & reference[key].keys())
        for f, g in combinations(common, 2):
            a = inproc[key][f][1] / inproc[key][g][1]
            b = process[key][f][1] / process[key][g][1]
            if not (max(a, 1 / a) > APART and max(b, 1 / b) > APART and (a > 1) != (b > 1)):
                continue
            verdicts["pairs"] += 1
            r = reference[key][f][1] / reference[key][g][1]
            if max(r, 1 / r) <= APART:
                verdicts["within"] += 1
            else:
                verdicts["in-process" if (r > 1) == (a > 1) else "process-per-run"] += 1
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data set labelled in-process")
    parser.add_argument("--out", type=Path, help="database for the process-per-run labels (default: beside --data)")
    parser.add_argument("--programs", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--arbitrate", type=Path, metavar="LONG.db",
                        help="measure nothing: judge --data against --out by this longer run's labels")
    args = parser.parse_args()
    out = args.out or args.data.with_name(args.data.stem + "-process.db")
    if args.arbitrate:
        verdicts = arbitrate(read(args.data)[0], read(out)[0], read(args.arbitrate)[0])
        print(json.dumps(verdicts) if args.json else
              f"{verdicts['pairs']} pairs ordered oppositely: the longer run sides with in-process on "
              f"{verdicts['in-process']}, process-per-run on {verdicts['process-per-run']}, "
              f"puts {verdicts['within']} within {APART - 1:.0%}")
        return
    started = time.time()
    time_as_processes(args.data, out, args.programs, args.repeat)
    report = agreement(args.data, out)
    report["minutes"] = round((time.time() - started) / 60, 1)
    print(json.dumps(report, indent=2) if args.json else format_agreement(report))


if __name__ == "__main__":
    main()
