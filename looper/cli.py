"""Command lines: `looper-opt FILE.c` (the compiler pass) and `looper` (the other tools)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import looper
from codegen.build import Compiler
from looper.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, LooperError


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad command lines in one line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_INPUT)


def _define(text: str) -> tuple[str, str | None]:
    name, _, value = text.partition("=")
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"bad -D definition {text!r}")
    return name, value if "=" in text else None


def opt_parser() -> argparse.ArgumentParser:
    """The looper-opt command line (polycc-like flags)."""
    from looper.searchflags import add_search_flags

    p = _Parser(prog="looper-opt", description="Optimize the #pragma scop regions of a C file.")
    p.add_argument("file", type=Path, help="C source file")
    p.add_argument("-o", dest="output", type=Path, help="output file (default: <name>.looper.c)")
    p.add_argument("-I", dest="include", action="append", default=[], metavar="DIR", help="include directory")
    p.add_argument("-D", dest="define", action="append", default=[], type=_define, metavar="NAME[=VALUE]",
                   help="macro definition (also used when building for --verify and measurement)")
    add_search_flags(p)
    p.add_argument("--explain", action="store_true", help="print the chosen sequence and the beam's top candidates")
    p.add_argument("--emit-schedule", type=Path, metavar="FILE.json", help="save the chosen schedules")
    p.add_argument("--apply-schedule", type=Path, metavar="FILE.json", help="reuse saved schedules (no search)")
    p.add_argument("--verify", action="store_true", help="build and run original and output, compare results")
    p.add_argument("--dump-scop", action="store_true", help="print each region as Polly JSCoP JSON and stop")
    p.add_argument("--strict", action="store_true",
                   help="make every warning an error: a region that is not a SCoP, a call assumed pure, no region")
    p.add_argument("--cc", default="gcc", help="C compiler for measurement and --verify (default gcc)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no warnings")
    p.add_argument("--version", action="version", version=f"looper-opt {looper.__version__}")
    return p


def _interrupt(signum: int, frame: object) -> None:
    """A signal handler that stops the command as Ctrl-C does."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM (`kill PID`) stops it the way Ctrl-C does: workers stopped, finished
    work kept, no half-written file, exit 130. (Dying of SIGTERM outright skips that clean-up; and a job
    started with `&` from a script ignores SIGINT, so `kill PID` is how such a job is stopped.)"""
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main_opt(argv: list[str] | None = None) -> int:
    """Entry point of `looper-opt`."""
    with _terminate_as_interrupt():
        return _main_opt(argv)


def _main_opt(argv: list[str] | None) -> int:
    """looper-opt's work, its failures reported in one line."""
    args = opt_parser().parse_args(argv)
    try:
        return _run_opt(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # report, never a traceback (unless asked for one)
        if os.environ.get("LOOPER_DEBUG") and getattr(exc, "exit_code", EXIT_INTERNAL) == EXIT_INTERNAL:
            raise
        if isinstance(exc, LooperError) and exc.exit_code == EXIT_INPUT:
            inference = sys.modules.get("costmodel.inference")  # a --model file that is not a checkpoint
            if inference is not None and isinstance(exc, inference.CheckpointError):
                print(f"looper-opt: error: --model: {str(exc).splitlines()[0]}", file=sys.stderr)
            else:
                print(str(exc), file=sys.stderr)
            return EXIT_INPUT
        print(f"looper-opt: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What makes the command line unusable before any work is done (a missing file, a bad -o), or None."""
    path: Path = args.file
    if not path.exists():
        return f"{path}: error: no such file"
    if not path.is_file():
        return f"{path}: error: not a regular file"
    for flag, out in (("-o", args.output), ("--emit-schedule", args.emit_schedule)):
        if out is not None and out.is_dir():
            return f"looper-opt: error: {flag} {out}: is a directory"
        if out is not None and not out.resolve().parent.is_dir():
            return f"looper-opt: error: {flag} {out}: no such directory {out.resolve().parent}"
    from looper.searchflags import model_problem

    if problem := model_problem(args.model):
        return f"looper-opt: error: {problem}"
    if (args.verify or args.search in ("measure", "hybrid")) and shutil.which(args.cc) is None:
        return f"looper-opt: error: --cc {args.cc}: no such compiler"
    return None


def _run_opt(args: argparse.Namespace) -> int:
    from looper.api import InputError, optimize
    from looper.searchflags import search_settings

    path: Path = args.file
    problem = _usage_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_INPUT
    defines = dict(args.define)
    if args.dump_scop:
        return _dump_scop(args, defines)
    apply = None
    if args.apply_schedule:
        try:
            apply = json.loads(args.apply_schedule.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{args.apply_schedule}: error: cannot read schedule: {exc}") from None
        regions = apply.get("regions") if isinstance(apply, dict) else None
        if not isinstance(regions, list) or not all(isinstance(r, dict) and isinstance(r.get("steps", []), list)
                                                    for r in regions):
            raise InputError(f"{args.apply_schedule}: error: not a schedule file of --emit-schedule "
                             "(expected {\"regions\": [{\"steps\": [...]}, ...]})")
    settings = search_settings(args)
    result = optimize(path, settings, include_dirs=args.include, defines=defines, apply=apply,
                      compiler=Compiler(cc=args.cc), strict=args.strict, verify=args.verify, quiet=args.quiet)
    notes = [(w.line, w.column, str(w)) for w in result.warnings]
    notes += [(e.line, e.column, e.as_warning("region left untouched")) for e in result.skipped]
    for _line, _col, note in sorted(notes):
        _say(args, note)
    if args.explain:
        _explain(result, args)
    if args.verify and result.verification is not None and not result.verification:
        if result.verification.usage:  # the original itself does not build or run: not looper's failure
            print(f"{path}: error: --verify: {result.verification.message}", file=sys.stderr)
            return EXIT_INPUT
        print(f"{path}: error: verification failed: {result.verification.message}", file=sys.stderr)
        return EXIT_INTERNAL
    output = args.output or path.with_name(path.name[: -len(path.suffix)] + ".looper" + path.suffix
                                           if path.suffix else path.name + ".looper.c")
    _write_output(output, result.code)
    if args.emit_schedule:
        from looper.api import dumps

        _write_output(args.emit_schedule, dumps(result) + "\n")
    if args.verify and result.verification is not None:
        _say(args, f"[looper] verified: {result.verification.message}")
    _say(args, f"looper-opt: wrote {output}: {_summary(result)}")
    return EXIT_OK


def _summary(result) -> str:
    """Each region's chosen sequence in short: its steps' kinds in order, repeats counted."""
    parts = []
    for r in result.regions:
        counts = Counter(step.kind for step in r.schedule.steps)  # in order of first appearance
        steps = ", ".join(k if n == 1 else f"{n} {k}" for k, n in counts.items()) or "unchanged"
        parts.append(f"{r.scop.name} {steps}")
    return "; ".join(parts) or "no region optimized"


def _explain(result, args: argparse.Namespace) -> None:
    for r in result.regions:
        where = r.scop.region.where() if r.scop.region else r.scop.name
        print(f"[looper] region {where} ({r.scop.name}): {len(r.scop.statements)} statements", file=sys.stderr)
        print(f"[looper] search: {args.search}; chosen: {r.schedule}", file=sys.stderr)
        if r.overruled is not None:
            print(f"[looper] grew from: the Pluto-class path, taken because {r.because} "
                  f"(the search's best: {r.overruled})", file=sys.stderr)
        elif r.search is not None:  # the start the chosen schedule grew from: the original program or a seed
            print(f"[looper] grew from: {r.search.origin(r.schedule)}", file=sys.stderr)
        for line in r.schedule.describe():
            print(f"[looper]   {line}", file=sys.stderr)
        if r.predicted_speedup is not None:
            print(f"[looper] predicted speedup: {r.predicted_speedup:.2f}x", file=sys.stderr)
        if r.measured_speedup is not None:
            print(f"[looper] measured speedup: {r.measured_speedup:.2f}x", file=sys.stderr)
        if r.search is not None:
            s = r.search.stats
            print(f"[looper] candidates: {s.generated} generated, {s.legal} legal, {s.illegal} illegal, "
                  f"{s.duplicates} duplicates, {s.scored} scored", file=sys.stderr)
            for rank, (schedule, score) in enumerate(r.search.beam, 1):
                print(f"[looper] beam #{rank}: score {score:.3f}: {schedule}", file=sys.stderr)
        for origin, schedule, speedup in r.timed:
            print(f"[looper] timed ({origin}): measured {speedup:.2f}x: {schedule}", file=sys.stderr)
        times = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in r.seconds.items())
        print(f"[looper] time: {times}", file=sys.stderr)


def _dump_scop(args: argparse.Namespace, defines: dict) -> int:
    """`--dump-scop`: each region as JSCoP JSON on stdout, under the same bad-input policy as optimizing."""
    from frontend.jscop import dump_entries
    from frontend.reader import read_file
    from looper.api import _screen

    reading = read_file(args.file, include_dirs=[Path(d) for d in args.include], defines=defines)
    _scops, skipped, warnings = _screen(reading, args.file, args.strict)
    notes = [(w.line, w.column, str(w)) for w in warnings] + [(e.line, e.column, e.as_warning()) for e in skipped]
    for _line, _col, note in sorted(notes):
        _say(args, note)
    print(dump_entries(reading.entries), end="")
    return EXIT_OK


def _write_output(path: Path, text: str) -> None:
    """Write an output file atomically; a file that cannot be written is the user's problem (exit 2)."""
    from looper.api import InputError

    try:
        _write_atomic(path, text)
    except OSError as exc:
        raise InputError(f"{path}: error: cannot write: {exc.strerror or exc}") from None


def _write_atomic(path: Path, text: str) -> None:
    """Write a file so that it is never seen half-written: a temporary file, then a rename.

    The text is written as UTF-8 bytes, line ends untouched. A new file gets the mode the umask
    allows (as `open` would give it, not mkstemp's 0600); a file overwritten keeps its mode, and a
    symbolic link is written through, not replaced."""
    target = path.resolve()
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def main(argv: list[str] | None = None) -> int:
    """Entry point of `looper` (subcommands: opt, bench, and the cost-model tools as they land)."""
    parser = _Parser(prog="looper", description="looper: learned polyhedral optimization of C loops.")
    parser.add_argument("--version", action="version", version=f"looper {looper.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("opt", help="same as looper-opt", add_help=False)
    sub.add_parser("bench", help="looper against gcc, Graphite and Polly on PolyBench", add_help=False)
    sub.add_parser("train", help="train the cost model on a measured data set", add_help=False)
    sub.add_parser("evaluate", help="evaluate a cost model on held-out data", add_help=False)
    sub.add_parser("dataset", help="generate measured training data (resumable)", add_help=False)
    sub.add_parser("fuzz", help="differential fuzzing: random programs x legal schedules, failures reduced",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    try:
        with _terminate_as_interrupt():
            return _dispatch(args.command, rest)
    except KeyboardInterrupt:  # before a subcommand's own handler (while importing it)
        return 130
    except BrokenPipeError:  # the reader went away (`looper ... | head`): stop quietly, like a C tool
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13


def _dispatch(command: str, rest: list[str]) -> int:
    """Run one `looper` subcommand."""
    if command in ("train", "evaluate"):
        from costmodel.cli import main_evaluate, main_train

        return (main_train if command == "train" else main_evaluate)(rest, _Parser)
    if command == "dataset":
        from costmodel.datagen import main as main_dataset

        return main_dataset(rest, _Parser)
    if command == "fuzz":
        from looper.fuzz.command import main as main_fuzz

        return main_fuzz(rest, _Parser)
    if command == "opt":
        return main_opt(rest)
    if command == "bench":
        from looper.bench.command import main as main_bench

        return main_bench(rest, _Parser)
    return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main_opt())
