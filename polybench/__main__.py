"""`python -m polybench`: list the suite, run and time a kernel, compare two dumps."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from codegen.build import DEFAULT_FLAGS, BuildError
from codegen.harness import DESCRIPTIONS, STATISTIC
from polybench.dump import RTOL, DumpError, compare, parse
from polybench.manifest import KERNELS, SIZES, kernel
from polybench.run import time_kernel


def _list(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = [
        {
            "name": k.name,
            "category": k.category,
            "dtype": k.dtype,
            "source": str(k.source),
            "liveouts": list(k.liveouts),
            "sizes": {s: k.sizes(s) for s in SIZES},
        }
        for k in KERNELS.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<15} {r['category']:<24} {r['dtype']:<7} {r['sizes']['LARGE']}")
    return 0


def _run(args: argparse.Namespace) -> int:
    k = kernel(args.kernel)
    cflags = shlex.split(args.cflags) if args.cflags is not None else list(DEFAULT_FLAGS)
    timed = time_kernel(k, args.size, cc=args.cc, cflags=cflags, source=args.source, repeat=args.repeat)
    seconds = timed.seconds
    assert seconds is not None
    gflops = k.flops(k.sizes(args.size)) / seconds / 1e9
    result = {
        "kernel": k.name,
        "size": args.size.upper(),
        "cc": args.cc,
        "cflags": cflags,
        f"{STATISTIC}_s": seconds,
        "min_s": min(timed.times),
        "max_s": max(timed.times),
        "gflops": gflops,
        "times": timed.times,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{k.name} {args.size.upper()}: {DESCRIPTIONS[STATISTIC]} {seconds:.6f} s "
            f"(min {min(timed.times):.6f}, max {max(timed.times):.6f}, n={len(timed.times)}), {gflops:.2f} GFLOP/s"
        )
    return 0


def _compare(args: argparse.Namespace) -> int:
    a = parse(Path(args.a).read_text())
    b = parse(Path(args.b).read_text())
    mismatch = compare(a, b, rtol=args.rtol)
    if mismatch:
        print(f"differ: {mismatch}")
        return 1
    print(f"same: {', '.join(a)}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The `python -m polybench` command line."""
    p = argparse.ArgumentParser(prog="python -m polybench", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("list", help="list the kernels", description="List the 30 kernels: category, data type, "
                                                                      "sizes (LARGE's shown; all with --json).")
    c.add_argument("--json", action="store_true", help="every kernel's fields and sizes as JSON")
    c.set_defaults(func=_list)
    c = sub.add_parser("run", help="build, run and time a kernel",
                       description="Build a kernel (or a transformed copy of it) with looper's measurement harness "
                                   "(codegen.harness: a library run in a worker, arrays initialized again and caches "
                                   "flushed before each run), time it REPEAT times after one untimed run, and print "
                                   f"the {DESCRIPTIONS[STATISTIC]} of the runs, their minimum and maximum kernel "
                                   "time, and GFLOP/s. 2 OpenMP threads, "
                                   "OMP_WAIT_POLICY=passive.")
    c.add_argument("kernel", choices=sorted(KERNELS), metavar="KERNEL", help="kernel name, e.g. gemm")
    c.add_argument("--size", default="LARGE", type=str.upper, choices=SIZES, help="dataset size (default: LARGE)")
    c.add_argument("--cc", default="gcc", help="C compiler (default: gcc)")
    c.add_argument("--cflags", default=None,
                   help=f"compiler flags, one string (default: {' '.join(DEFAULT_FLAGS)!r}; add -fopenmp to run "
                        "looper's parallel output in parallel)")
    c.add_argument("--repeat", type=int, default=5, help="number of timed runs (default: 5)")
    c.add_argument("--source", type=Path, default=None,
                   help="build this file instead of the kernel's own source, e.g. a .looper.c (default: the "
                        "kernel's source)")
    c.add_argument("--json", action="store_true", help="print the result and every time as JSON")
    c.set_defaults(func=_run)
    c = sub.add_parser("compare", help="compare two array dumps",
                       description="Compare two array dumps (-DPOLYBENCH_DUMP_ARRAYS output); print the first "
                                   "differing element, if any (exit status 1).")
    c.add_argument("a", help="first dump file")
    c.add_argument("b", help="second dump file")
    c.add_argument("--rtol", type=float, default=RTOL["double"],
                   help=f"relative tolerance for floating point (default: {RTOL['double']:g})")
    c.set_defaults(func=_compare)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m polybench`."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (BuildError, DumpError, OSError, RuntimeError) as exc:
        print(f"polybench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
