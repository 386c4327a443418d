/*
 * lu: in-place LU factorisation A = L * U without pivoting of an N x N matrix (Doolittle):
 * the strict lower triangle of A is overwritten with the unit lower triangular L (its unit
 * diagonal not stored), the upper triangle (diagonal included) with U. Row i of L is computed
 * first, then row i of U.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "polybench.h"
#include "lu.h"

/*
 * Off-diagonal entries in [0, 1), diagonal n: strictly diagonally dominant by rows, which every
 * Schur complement inherits, so elimination without pivoting is stable and all pivots exceed 1.
 */
static void init_array(int n, DATA_TYPE POLYBENCH_2D(A, N, N, n, n))
{
  int i, j;

  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++)
      A[i][j] = (DATA_TYPE)((i * (j + 3) + 2 * j + 1) % n) / n;
  for (i = 0; i < n; i++)
    A[i][i] = (DATA_TYPE)n;
}

static void print_array(int n, DATA_TYPE POLYBENCH_2D(A, N, N, n, n))
{
  int i, j;

  POLYBENCH_DUMP_START;
  POLYBENCH_DUMP_BEGIN("A");
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      POLYBENCH_DUMP_NEWLINE(i * n + j);
      fprintf(POLYBENCH_DUMP_TARGET, DATA_PRINTF_MODIFIER, A[i][j]);
    }
  POLYBENCH_DUMP_END("A");
  POLYBENCH_DUMP_FINISH;
}

static void kernel_lu(int n, DATA_TYPE POLYBENCH_2D(A, N, N, n, n))
{
  int i, j, k;

#pragma scop
  for (i = 0; i < _PB_N; i++) {
    /* L[i][j] = (A[i][j] - sum_{k<j} L[i][k] U[k][j]) / U[j][j] */
    for (j = 0; j < i; j++) {
      for (k = 0; k < j; k++)
        A[i][j] -= A[i][k] * A[k][j];
      A[i][j] /= A[j][j];
    }
    /* U[i][j] = A[i][j] - sum_{k<i} L[i][k] U[k][j] */
    for (j = i; j < _PB_N; j++) {
      for (k = 0; k < i; k++)
        A[i][j] -= A[i][k] * A[k][j];
    }
  }
#pragma endscop
}

int main(int argc, char **argv)
{
  int n = N;
  POLYBENCH_2D_ARRAY_DECL(A, DATA_TYPE, N, N, n, n);

  init_array(n, POLYBENCH_ARRAY(A));

  polybench_start_instruments;
  kernel_lu(n, POLYBENCH_ARRAY(A));
  polybench_stop_instruments;
  polybench_print_instruments;

  polybench_prevent_dce(print_array(n, POLYBENCH_ARRAY(A)));

  POLYBENCH_FREE_ARRAY(A);
  return 0;
}
