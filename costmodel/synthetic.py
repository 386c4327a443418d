"""A SYNTHETIC data set for tests and smoke runs: real programs (read by the frontend) and real random
legal schedules (looper.search.sampler), but labels from the analytical stand-in evaluator, NOT from
measurements. Every sample is tagged machine='synthetic-analytical', compiler='none' so that it can
never be mistaken for measured data.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from costmodel.dataset import add_program, add_sample, open_db
from looper.deps import compute_dependences
from looper.schedule import Schedule
from looper.search.evaluators import AnalyticalEvaluator
from looper.search.sampler import sample, samples

MACHINE = "synthetic-analytical"

# Small self-contained kernels, enough to exercise fusion, triangular domains, stencils and reductions.
PROGRAMS: dict[str, str] = {
    "gemm": """
#define N 96
double A[N][N], B[N][N], C[N][N];
void gemm(double alpha, double beta) {
  int i, j, k;
#pragma scop
  for (i = 0; i < N; i++) {
    for (j = 0; j < N; j++)
      C[i][j] *= beta;
    for (k = 0; k < N; k++)
      for (j = 0; j < N; j++)
        C[i][j] += alpha * A[i][k] * B[k][j];
  }
#pragma endscop
}
""",
    "jacobi1d": """
#define T 40
#define N 400
double A[N], B[N];
void jacobi(void) {
  int t, i;
#pragma scop
  for (t = 0; t < T; t++) {
    for (i = 1; i < N - 1; i++)
      B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1]);
    for (i = 1; i < N - 1; i++)
      A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1]);
  }
#pragma endscop
}
""",
    "mvt": """
#define N 200
double A[N][N], x1[N], x2[N], y1[N], y2[N];
void mvt(void) {
  int i, j;
#pragma scop
  for (i = 0; i < N; i++)
    for (j = 0; j < N; j++)
      x1[i] = x1[i] + A[i][j] * y1[j];
  for (i = 0; i < N; i++)
    for (j = 0; j < N; j++)
      x2[i] = x2[i] + A[j][i] * y2[j];
#pragma endscop
}
""",
    "syrk": """
#define N 80
#define M 60
float A[N][M], C[N][N];
void syrk(float alpha, float beta) {
  int i, j, k;
#pragma scop
  for (i = 0; i < N; i++) {
    for (j = 0; j <= i; j++)
      C[i][j] *= beta;
    for (k = 0; k < M; k++)
      for (j = 0; j <= i; j++)
        C[i][j] += alpha * A[i][k] * A[j][k];
  }
#pragma endscop
}
""",
    "norm": """
#define N 120
#define M 100
double A[N][M], s[M];
void norm(void) {
  int i, j;
#pragma scop
  for (j = 0; j < M; j++) {
    s[j] = 0.0;
    for (i = 0; i < N; i++)
      s[j] += A[i][j] * A[i][j];
    s[j] = sqrt(s[j]);
  }
#pragma endscop
}
""",
}


def build_synthetic_db(path: str | Path, *, per_program: int = 30, seed: int = 0,
                       programs: Iterable[str] | None = None, sources: Mapping[str, str] | None = None,
                       seconds_per_program: float | None = None) -> Path:
    """Write a SYNTHETIC data set (analytical labels, not measurements) of the named PROGRAMS (or of
    the given name -> C source mapping), committing program by program."""
    from frontend import read_scop

    path = Path(path)
    conn = open_db(path)
    evaluator = AnalyticalEvaluator()
    table = dict(sources) if sources is not None else PROGRAMS
    try:
        for index, name in enumerate(programs or table):
            source = table[name]
            key = f"synthetic/{name}"
            scop = read_scop(source)
            add_program(conn, key, source, suite="synthetic", name=name, seed=seed, defines={})
            start = Schedule(scop)
            found = _sample(start, compute_dependences(scop), per_program, seed * 1000 + index, seconds_per_program)
            for schedule in [start, *found]:
                speedup = evaluator.score([schedule])[0]
                add_sample(conn, key, schedule, "ok", speedup, machine=MACHINE, compiler="none")
            conn.commit()
    finally:
        conn.close()
    return path


def _sample(start: Schedule, deps, count: int, seed: int, seconds: float | None) -> list[Schedule]:
    if seconds is None:
        return samples(start, deps, count, seed=seed)
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    found: dict[str, Schedule] = {}
    identity = start.fingerprint()
    for _ in range(count * 10):
        if time.monotonic() > deadline or len(found) >= count:
            break
        s = sample(start, deps, rng)
        if s.fingerprint() != identity:
            found.setdefault(s.fingerprint(), s)
    return list(found.values())
