"""Build time of a generated program with the harness compiled in, against linking its cached object.

    python benchmarks/build_time.py [--start 3000] [--count 8] [--repeat 3]

For each generated program, the two gcc command lines the data generator has used, timed
alternately: `gcc … program.c polybench.c` (before the object cache) and `gcc … program.c
polybench.o` (codegen.build.object_file). Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codegen.build import object_file
from codegen.harness import harness_sources
from costmodel.labels import COMPILER
from costmodel.programs import generated_programs


def timed(cmd: list[str]) -> float:
    """Seconds one compiler command takes (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=3000, help="first generator seed")
    parser.add_argument("--count", type=int, default=8, help="programs")
    parser.add_argument("--repeat", type=int, default=3, help="builds of each kind per program")
    args = parser.parse_args()
    inline, linked = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in generated_programs(args.start, args.count):
            extra, dirs = harness_sources(spec.source, [])
            compiler = COMPILER.with_(include_dirs=tuple(dirs), defines={**spec.defines, "POLYBENCH_TIME": None})
            source = Path(tmp) / "program.c"
            source.write_text(spec.source)
            objects = [object_file(Path(s), compiler) for s in extra]
            base = [compiler.cc, *compiler.arguments(), str(source)]
            for _ in range(args.repeat):
                inline.append(timed([*base, *map(str, extra), "-o", f"{tmp}/a", "-lm"]))
                linked.append(timed([*base, *map(str, objects), "-o", f"{tmp}/b", "-lm"]))
    a, b = statistics.median(inline), statistics.median(linked)
    print(f"{len(inline)} builds of each kind: harness compiled in {a * 1000:.0f} ms, "
          f"object linked {b * 1000:.0f} ms (median); {b / a:.2f}x the time")


if __name__ == "__main__":
    main()
