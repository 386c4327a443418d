"""Write generated programs to files: `python -m costmodel.generator SEED [--count N] [-o FILE_OR_DIR]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from costmodel.generator.program import generate, write_program
from looper.argtypes import at_least


def main(argv: list[str] | None = None) -> int:
    """Print one program (no -o), or write programs to a file or a directory (gen<seed>.c each)."""
    ap = argparse.ArgumentParser(prog="python -m costmodel.generator", description=__doc__)
    ap.add_argument("seed", type=int)
    ap.add_argument("--count", type=at_least(1), default=1, help="programs of seeds seed, seed + 1, ...")
    ap.add_argument("-o", "--output", type=Path, help="a .c file (one program) or a directory")
    ap.add_argument("--max-nests", type=at_least(1), default=4, help="top-level loop nests at most (default 4)")
    ap.add_argument("--max-depth", type=at_least(1, at_most=5), default=5,
                    help="loop depth at most, 1 to 5 (default 5)")
    args = ap.parse_args(argv)
    limits = {"max_nests": args.max_nests, "max_depth": args.max_depth}
    if args.output is None:
        if args.count != 1:
            ap.error("--count needs -o DIRECTORY")
        sys.stdout.write(generate(args.seed, **limits).source)
        return 0
    if args.count > 1:
        args.output.mkdir(parents=True, exist_ok=True)
    for seed in range(args.seed, args.seed + args.count):
        prog = write_program(seed, args.output, **limits)
        print(f"{prog.name}: {prog.dtype}, sizes {prog.sizes}, nests {prog.nest_depths}, "
              f"~{prog.estimated_seconds * 1e3:.1f} ms, {' '.join(prog.pattern_tags)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
