/*
 * gramschmidt: QR factorisation A = Q * R of an N x M matrix A of full column rank (N >= M) by
 * modified Gram-Schmidt: Q is N x M with orthonormal columns, R is M x M upper triangular with a
 * positive diagonal. Column k of A is normalised into Q[:][k], then its component is removed
 * from every later column of A (so A ends up holding Q[:][k] * R[k][k] in column k).
 *
 * Unlike PolyBench (A of M x N with M < N, whose columns past the M-th are linearly dependent
 * and normalise rounding noise), the row count is N and the column count M, so that the
 * standard dataset sizes give a full-rank problem.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "polybench.h"
#include "gramschmidt.h"

/*
 * Entries in [-0.5, 0.5) plus n on the diagonal: the perturbation has 2-norm below n/2, so the
 * singular values of A lie in (n/2, 3n/2) and A is well conditioned at every size.
 */
static void init_array(int m, int n, DATA_TYPE POLYBENCH_2D(A, N, M, n, m),
                       DATA_TYPE POLYBENCH_2D(R, M, M, m, m), DATA_TYPE POLYBENCH_2D(Q, N, M, n, m))
{
  int i, j;

  for (i = 0; i < n; i++)
    for (j = 0; j < m; j++) {
      A[i][j] = (DATA_TYPE)((i * (j + 1) + 3) % n) / n - 0.5;
      Q[i][j] = 0.0;
    }
  for (j = 0; j < m; j++)
    A[j][j] += (DATA_TYPE)n;
  for (i = 0; i < m; i++)
    for (j = 0; j < m; j++)
      R[i][j] = 0.0;
}

static void print_array(int m, int n, DATA_TYPE POLYBENCH_2D(A, N, M, n, m),
                        DATA_TYPE POLYBENCH_2D(R, M, M, m, m), DATA_TYPE POLYBENCH_2D(Q, N, M, n, m))
{
  int i, j;

  POLYBENCH_DUMP_START;
  POLYBENCH_DUMP_BEGIN("A");
  for (i = 0; i < n; i++)
    for (j = 0; j < m; j++) {
      POLYBENCH_DUMP_NEWLINE(i * m + j);
      fprintf(POLYBENCH_DUMP_TARGET, DATA_PRINTF_MODIFIER, A[i][j]);
    }
  POLYBENCH_DUMP_END("A");
  POLYBENCH_DUMP_BEGIN("R");
  for (i = 0; i < m; i++)
    for (j = 0; j < m; j++) {
      POLYBENCH_DUMP_NEWLINE(i * m + j);
      fprintf(POLYBENCH_DUMP_TARGET, DATA_PRINTF_MODIFIER, R[i][j]);
    }
  POLYBENCH_DUMP_END("R");
  POLYBENCH_DUMP_BEGIN("Q");
  for (i = 0; i < n; i++)
    for (j = 0; j < m; j++) {
      POLYBENCH_DUMP_NEWLINE(i * m + j);
      fprintf(POLYBENCH_DUMP_TARGET, DATA_PRINTF_MODIFIER, Q[i][j]);
    }
  POLYBENCH_DUMP_END("Q");
  POLYBENCH_DUMP_FINISH;
}

static void kernel_gramschmidt(int m, int n, DATA_TYPE POLYBENCH_2D(A, N, M, n, m),
                               DATA_TYPE POLYBENCH_2D(R, M, M, m, m), DATA_TYPE POLYBENCH_2D(Q, N, M, n, m))
{
  int i, j, k;
  DATA_TYPE nrm;

#pragma scop
  for (k = 0; k < _PB_M; k++) {
    /* R[k][k] = || A[:][k] || */
    nrm = SCALAR_VAL(0.0);
    for (i = 0; i < _PB_N; i++)
      nrm += A[i][k] * A[i][k];
    R[k][k] = SQRT_FUN(nrm);
    for (i = 0; i < _PB_N; i++)
      Q[i][k] = A[i][k] / R[k][k];
    /* project the later columns off Q[:][k] */
    for (j = k + 1; j < _PB_M; j++) {
      R[k][j] = SCALAR_VAL(0.0);
      for (i = 0; i < _PB_N; i++)
        R[k][j] += Q[i][k] * A[i][j];
      for (i = 0; i < _PB_N; i++)
        A[i][j] = A[i][j] - Q[i][k] * R[k][j];
    }
  }
#pragma endscop
}

int main(int argc, char **argv)
{
  int m = M;
  int n = N;
  POLYBENCH_2D_ARRAY_DECL(A, DATA_TYPE, N, M, n, m);
  POLYBENCH_2D_ARRAY_DECL(R, DATA_TYPE, M, M, m, m);
  POLYBENCH_2D_ARRAY_DECL(Q, DATA_TYPE, N, M, n, m);

  init_array(m, n, POLYBENCH_ARRAY(A), POLYBENCH_ARRAY(R), POLYBENCH_ARRAY(Q));

  polybench_start_instruments;
  kernel_gramschmidt(m, n, POLYBENCH_ARRAY(A), POLYBENCH_ARRAY(R), POLYBENCH_ARRAY(Q));
  polybench_stop_instruments;
  polybench_print_instruments;

  polybench_prevent_dce(print_array(m, n, POLYBENCH_ARRAY(A), POLYBENCH_ARRAY(R), POLYBENCH_ARRAY(Q)));

  POLYBENCH_FREE_ARRAY(A);
  POLYBENCH_FREE_ARRAY(R);
  POLYBENCH_FREE_ARRAY(Q);
  return 0;
}
