"""Helpers of the frontend tests: fix a Scop's parameters to a dataset size, instrument and run kernels."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import islpy as isl

from looper.ir import Scop
from polybench.dump import parse
from polybench.manifest import UTILITIES, Kernel


def param_values(scop: Scop, kernel: Kernel, size: str = "MINI") -> dict[str, int]:
    """`_PB_X` (or `X`) -> the dataset's value of X."""
    sizes = kernel.sizes(size)
    out = {}
    for p in scop.params:
        key = p.removeprefix("_PB_")
        assert key in sizes, f"parameter {p} of {kernel.name} has no value at {size}"
        out[p] = sizes[key]
    return out


def fix_params(obj, values: dict[str, int]):
    """Fix each named parameter of an isl Set/Map/UnionSet/UnionMap to its value."""
    names = list(values)
    if not names:
        return obj
    text = "[" + ", ".join(names) + "] -> { : " + " and ".join(f"{n} = {v}" for n, v in values.items()) + " }"
    return obj.intersect_params(isl.Set(text))


def point_count(domain: isl.Set, values: dict[str, int]) -> int:
    """Number of integer points of a parametric set at fixed parameter values."""
    return int(fix_params(domain, values).count_val().to_python())


def compile_kernel(kernel: Kernel, source: Path, exe: Path, *extra: str) -> None:
    """gcc the (instrumented) kernel with the harness at MINI size."""
    cmd = [
        "gcc",
        "-O0",
        "-w",
        "-DMINI_DATASET",
        f"-I{kernel.source.parent}",
        f"-I{UTILITIES}",
        *extra,
        str(source),
        str(UTILITIES / "polybench.c"),
        "-lm",
        "-o",
        str(exe),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"gcc failed on {source}:\n{done.stderr}"


def run(exe: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{exe} failed: {done.stderr[-2000:]}"
    return done


def counting_source(text: str, scop: Scop) -> str:
    """The kernel with each statement also counting its executions (printed at exit)."""
    edits = []
    for k, s in enumerate(scop.statements):
        assert s.span is not None
        a, b = s.span
        body = s.body
        # `target op (counter++, value)` keeps declarations (`double t = ...`) and chains (`a = b = c`) valid.
        new = f"{body.target.to_c()} {body.op} (looper_counter[{k}]++, {body.value.to_c()})"
        edits.append((a, b, new))
    for a, b, new in sorted(edits, reverse=True):
        text = text[:a] + new + text[b:]
    n = len(scop.statements)
    prefix = (
        "#include <stdio.h>\n"
        f"static unsigned long looper_counter[{n}];\n"
        "__attribute__((destructor)) static void looper_report(void) {\n"
        '  printf("LOOPER_COUNTS");\n'
        f'  for (int k = 0; k < {n}; k++) printf(" %lu", looper_counter[k]);\n'
        '  printf("\\n");\n'
        "}\n"
    )
    return prefix + text


def counts_from_output(stdout: str) -> list[int]:
    m = re.search(r"^LOOPER_COUNTS((?: \d+)*)$", stdout, re.M)
    assert m, f"no counters in the output: {stdout[-500:]}"
    return [int(x) for x in m.group(1).split()]


def dumping_source(text: str, kernel: Kernel) -> str:
    """The kernel with its live-out arrays dumped before the kernel runs too."""
    call = re.search(r"polybench_prevent_dce\((print_array\(.*?\))\);", text, re.S)
    assert call, f"no print_array call in {kernel.name}"
    kernel_call = re.search(r"^\s*kernel_\w+\(", text, re.M)
    assert kernel_call, f"no kernel call in {kernel.name}"
    at = kernel_call.start()
    return text[:at] + f"\n  {call.group(1)};\n" + text[at:]


def two_dumps(stderr: str) -> tuple[dict, dict]:
    """The dumps before and after the kernel."""
    blocks = re.findall(r"==BEGIN DUMP_ARRAYS==.*?==END   DUMP_ARRAYS==", stderr, re.S)
    assert len(blocks) == 2, f"expected two dumps, got {len(blocks)}"
    return parse(blocks[0]), parse(blocks[1])


def extent(size_text: str, values: dict[str, int]) -> int:
    """The value of a declared extent such as `N` or `N + 1` at the dataset's sizes."""
    expr = size_text
    for name, v in sorted(values.items(), key=lambda kv: -len(kv[0])):
        expr = re.sub(rf"\b{re.escape(name)}\b", str(v), expr)
    assert re.fullmatch(r"[\d\s+\-*/()]+", expr), f"cannot evaluate extent {size_text!r}"
    return int(eval(expr))  # digits and operators only (checked above)


def written_elements(scop: Scop, array: str, values: dict[str, int]) -> set[tuple[int, ...]]:
    """Every element of `array` some statement instance writes, at fixed parameters."""
    out: set[tuple[int, ...]] = set()
    for s in scop.statements:
        dom = fix_params(s.domain, values)
        for a in s.writes:
            if a.array != array:
                continue
            img = a.relation.intersect_domain(dom).range()
            n = img.dim(isl.dim_type.set)

            def add(p, n=n):
                out.add(tuple(p.get_coordinate_val(isl.dim_type.set, k).to_python() for k in range(n)))

            img.foreach_point(add)
    return out
