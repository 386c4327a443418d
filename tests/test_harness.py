"""codegen.harness: variants composed into one library, timed in a worker under one policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codegen.build import Compiler, compile_text
from codegen.harness import (
    OK,
    RUN_ERROR,
    TIMEOUT,
    Batch,
    Harness,
    Policy,
    RunFailed,
    Timed,
    build,
    compose,
    measure,
    run_program,
)
from codegen.harness.policy import fast_half_mean
from codegen.harness.worker import Worker
from polybench.manifest import UTILITIES

# The kernel changes its input and a zero-initialized global: run twice without fresh state, it
# would print another sum.
PROGRAM = """\
#include <stdio.h>
#include "polybench.h"
#define N 20000

static double total[N];

static void kernel(int n, double A[N], double B[N])
{
  int i;
#pragma scop
  for (i = 0; i < n; i++) {
    B[i] = 2.0 * A[i];
    A[i] = A[i] + 1.0;
  }
#pragma endscop
  for (i = 0; i < n; i++)
    total[i] += B[i];
}

int main(int argc, char **argv)
{
  int i, n = N;
  double sum = 0.0;
  POLYBENCH_1D_ARRAY_DECL(A, double, N, n);
  POLYBENCH_1D_ARRAY_DECL(B, double, N, n);
  for (i = 0; i < n; i++)
    (*A)[i] = (double)(i % 7);
  kernel(n, POLYBENCH_ARRAY(A), POLYBENCH_ARRAY(B));
  for (i = 0; i < n; i++)
    sum += total[i] + (*A)[i];
  printf("sum %.1f\\n", sum);
  POLYBENCH_FREE_ARRAY(A);
  POLYBENCH_FREE_ARRAY(B);
  return 0;
}
"""
REGION = re.compile(r"(#pragma scop\n).*?(#pragma endscop)", re.S)
COMPILER = Compiler(flags=("-O2",), include_dirs=(UTILITIES,))


def variant(body: str) -> str:
    """The program with its region's code replaced."""
    return REGION.sub(lambda m: m.group(1) + body + "\n" + m.group(2), PROGRAM)


REVERSED = variant("  for (i = n - 1; i >= 0; i--) {\n    B[i] = 2.0 * A[i];\n    A[i] = A[i] + 1.0;\n  }")
CRASH = variant("  __builtin_trap();")
HANG = variant("  while (1)\n    __asm__ volatile(\"\");")
SLOW = variant("  for (int r = 0; r < 400; r++)\n    for (i = 0; i < n; i++) {\n      B[i] = 2.0 * A[i];\n"
               "      __asm__ volatile(\"\" ::: \"memory\");\n    }\n  for (i = 0; i < n; i++)\n    A[i] = A[i] + 1.0;")


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path / "cache"))


def test_a_crashing_and_a_hanging_variant_are_recorded_and_the_others_keep_their_runs() -> None:
    library = build(Batch(PROGRAM, (REVERSED, CRASH, HANG, PROGRAM), COMPILER))
    assert library.path is not None and library.count == 4  # the copy of the original shares version 0
    with Harness(Policy(runs=2, min_runs=2, max_runs=3), timeout=2.0) as harness:
        original, reversed_, crash, hang, same = harness.time(library)
    assert [r.status for r in (original, reversed_, crash, hang, same)] == [OK, OK, RUN_ERROR, TIMEOUT, OK]
    assert "SIGILL" in crash.message and "2 s" in hang.message
    assert len(original.times) >= 2 and len(reversed_.times) >= 2 and len(same.times) >= 2
    assert all(t > 0 for t in reversed_.times)


def test_every_run_starts_from_fresh_state_like_a_new_process(tmp_path: Path) -> None:
    binary = compile_text(PROGRAM, COMPILER, extra_sources=[UTILITIES / "polybench.c"])
    expected = run_program(binary, timeout=30).stdout
    library = build(Batch(PROGRAM, (REVERSED,), COMPILER))
    with Harness(Policy(runs=3), timeout=30) as harness:
        assert all(r.ok for r in harness.time(library))  # the original ran 1 + 3 times, the variant 3
        assert harness.output(library, 0, tmp_path / "out") == expected
        assert harness.output(library, 1, tmp_path / "out") == expected
    assert expected.startswith("sum ")


def test_arrays_are_page_aligned_in_the_worker_as_in_a_process(tmp_path: Path) -> None:
    # In a long-lived worker, large blocks come from a heap whose state differs run to run: without page
    # alignment symm's arrays met other cache-set and 4 KiB-aliasing conflicts than in a fresh process
    # (its original ran 1.8 s in the worker, 2.4 s as a process).
    offsets = PROGRAM.replace('printf("sum %.1f\\n", sum);',
                              'printf("%lu %lu\\n", (unsigned long)A % 4096, (unsigned long)B % 4096);')
    assert offsets != PROGRAM
    binary = compile_text(offsets, COMPILER, extra_sources=[UTILITIES / "polybench.c"])
    assert run_program(binary, timeout=30).stdout == "0 0\n"
    library = build(Batch(offsets, (), COMPILER))
    with Harness(timeout=30) as harness:
        for _ in range(3):
            assert harness.output(library, 0, tmp_path / "out") == "0 0\n"


def test_the_flush_buffer_is_written_and_the_programs_arrays_are_evicted() -> None:
    library = build(Batch(PROGRAM, (), COMPILER))
    assert library.path is not None
    worker = Worker()
    try:
        worker.load(library.path)
        before = worker.call({"op": "state"}, 10)
        assert before["flush_bytes"] >= 1 << 20 and before["flush_zeros"] == 0  # real pages, not the zero page
        assert worker.call({"op": "run", "variant": 0}, 10)["status"] == 0
        after = worker.call({"op": "state"}, 10)
    finally:
        worker.close()
    assert after["flushes"] == before["flushes"] + 1
    # Both arrays (2 x 20000 doubles) and the global `total` leave every cache level, line by line.
    assert after["flushed_lines"] - before["flushed_lines"] >= 3 * 20000 * 8 // 64


def test_the_policy_stops_slow_variants_early_and_runs_close_ones_more() -> None:
    seconds = {"base": 1.0, "close": 1.05, "slow": 3.0, "hopeless": 50.0, "middle": 1.5}
    runs: dict[str, int] = dict.fromkeys(seconds, 0)

    def timer(name: str):
        def run() -> float:
            runs[name] += 1
            return seconds[name]
        return run

    def broken() -> float:
        raise RunFailed(RUN_ERROR, "exit status 1")

    policy = Policy(runs=4, min_runs=2, max_runs=7)
    names = list(seconds)
    results = measure([*(timer(n) for n in names), broken], policy)
    assert runs == {"base": 7, "close": 7, "slow": 2, "hopeless": 1, "middle": 4}
    assert [r.status for r in results] == [OK] * 5 + [RUN_ERROR]
    assert results[2].seconds == 3.0


def test_the_statistic_is_the_mean_of_the_fastest_half() -> None:
    # A busy moment only slows runs down: the slow half is ignored, whatever its size.
    assert fast_half_mean([5.0, 1.0, 3.0, 2.0, 100.0]) == pytest.approx(2.0)
    assert fast_half_mean([4.0, 2.0]) == 2.0 and fast_half_mean([7.0]) == 7.0
    assert fast_half_mean([1.0, 2.0, 3.0, 4.0]) == pytest.approx(1.5)
    assert Timed(times=[3.0, 1.0, 1.2]).seconds == pytest.approx(1.1)  # the policy's default statistic


def test_the_baseline_failing_fails_the_batch() -> None:
    def broken() -> float:
        raise RunFailed(TIMEOUT, "no reply within 1 s")

    results = measure([broken, lambda: 1.0], Policy())
    assert [r.status for r in results] == [TIMEOUT, TIMEOUT] and "baseline" in results[1].message


def test_a_region_in_main_and_a_prototype_before_the_kernel_compose(tmp_path: Path) -> None:
    in_main = ("#include <stdio.h>\nint main(void)\n{\n  int i;\n  double a[100];\n#pragma scop\n"
               "  for (i = 0; i < 100; i++)\n    a[i] = i;\n#pragma endscop\n  printf(\"%g\\n\", a[99]);\n"
               "  return 0;\n}\n")
    prototype = ("#include <stdio.h>\nstatic void kernel(int n, double *a);\nint main(void)\n{\n  double a[50];\n"
                 "  kernel(50, a);\n  printf(\"%g\\n\", a[49]);\n  return 0;\n}\n"
                 "static void kernel(int n, double *a)\n{\n  int i;\n#pragma scop\n  for (i = 0; i < n; i++)\n"
                 "    a[i] = 2 * i;\n#pragma endscop\n}\n")
    for program, old, new, outputs in ((in_main, "a[i] = i;", "a[i] = 3 * i;", ["99", "297"]),
                                       (prototype, "a[i] = 2 * i;", "a[i] = 5 * i;", ["98", "245"])):
        other = program.replace(old, new)
        composed = compose(program, [other])
        assert composed.count == 2 and composed.slots == (1,)
        library = build(Batch(program, (other,), Compiler(flags=("-O1",))))
        with Harness(timeout=30) as harness:
            got = [harness.output(library, v, tmp_path / "out").strip() for v in (0, 1)]
        assert got == outputs


def test_exit_ends_a_run_as_it_ends_a_process(tmp_path: Path) -> None:
    ends_with_exit = PROGRAM.replace("  return 0;\n}", "  exit(0);\n}")
    exits = variant("  exit(3);")
    library = build(Batch(ends_with_exit, (exits, REVERSED.replace("  return 0;\n}", "  exit(0);\n}")), COMPILER))
    with Harness(Policy(runs=2), timeout=30) as harness:
        original, three, reversed_ = harness.time(library)
        assert harness.output(library, 0, tmp_path / "out").startswith("sum ")
    assert original.ok and reversed_.ok and len(reversed_.times) >= 2
    assert three.status == RUN_ERROR and three.message == "exit status 3"


def test_a_variant_that_does_not_compile_is_a_build_error_and_the_rest_is_timed() -> None:
    broken = variant("  this is not C;")
    library = build(Batch(PROGRAM, (broken, REVERSED), COMPILER))
    assert library.path is not None and library.slots[0] is None and "error" in library.errors[0]
    with Harness(Policy(runs=2), timeout=30) as harness:
        results = harness.time(library)
    assert [r.status for r in results] == [OK, "build_error", OK]


def test_a_variant_clearly_slower_stops_after_two_runs() -> None:
    # Milliseconds, not the 50 us of N = 20000. Whether a close variant gets its full runs is the
    # policy's business, tested without a clock above: on a busy machine a run of the reversed loop can
    # take 3x the original's and end it after three runs (CI, stop 37), so it is not asserted here.
    def larger(text: str) -> str:
        return text.replace("#define N 20000", "#define N 1000000").replace("r < 400", "r < 20")

    library = build(Batch(larger(PROGRAM), (larger(SLOW), larger(REVERSED)), COMPILER))
    with Harness(Policy(runs=4, min_runs=2, max_runs=6, hopeless=1000.0), timeout=30) as harness:
        original, slow, reversed_ = harness.time(library)
    assert slow.ok and len(slow.times) == 2 and slow.seconds > 2 * original.seconds
    assert len(original.times) >= 4 and reversed_.ok and len(reversed_.times) >= 2


def test_a_worker_loads_library_after_library_without_growing() -> None:
    library = build(Batch(PROGRAM, (REVERSED,), COMPILER))
    assert library.path is not None
    worker = Worker()

    def resident_mib() -> float:
        status = Path(f"/proc/{worker.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

    try:
        worker.load(library.path)
        first = resident_mib()
        for _ in range(20):  # each load allocates (and writes) a flush buffer of twice the L2 cache
            worker.load(library.path)
            assert worker.call({"op": "run", "variant": 1}, 10)["status"] == 0
        assert resident_mib() - first < 40
    finally:
        worker.close()
