/*
 * floyd-warshall: all-pairs shortest paths in a dense directed graph of N vertices,
 * path[i][j] := min(path[i][j], path[i][k] + path[k][j]) for every intermediate vertex k.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "polybench.h"
#include "floyd-warshall.h"

/* The weight of a missing edge: far above the length of a short path of real edges, and small
   enough that the sum of two path lengths never overflows an int. */
#define FW_NO_EDGE 1000

static void init_array(int n, DATA_TYPE POLYBENCH_2D(path, N, N, n, n))
{
  int i, j;

  /* Positive edge weights in [1, 17]; about one pair in nine has no direct edge. */
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      path[i][j] = (5 * i + 3 * j) % 17 + 1;
      if ((2 * i + j) % 9 == 0 || (i + 4 * j) % 11 == 0)
        path[i][j] = FW_NO_EDGE;
    }
}

static void print_array(int n, DATA_TYPE POLYBENCH_2D(path, N, N, n, n))
{
  int i, j;

  POLYBENCH_DUMP_START;
  POLYBENCH_DUMP_BEGIN("path");
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      POLYBENCH_DUMP_NEWLINE(i * n + j);
      fprintf(POLYBENCH_DUMP_TARGET, DATA_PRINTF_MODIFIER, path[i][j]);
    }
  POLYBENCH_DUMP_END("path");
  POLYBENCH_DUMP_FINISH;
}

static void kernel_floyd_warshall(int n, DATA_TYPE POLYBENCH_2D(path, N, N, n, n))
{
  int i, j, k;

#pragma scop
  for (k = 0; k < _PB_N; k++) {
    for (i = 0; i < _PB_N; i++)
      for (j = 0; j < _PB_N; j++)
        path[i][j] = path[i][j] < path[i][k] + path[k][j] ? path[i][j] : path[i][k] + path[k][j];
  }
#pragma endscop
}

int main(int argc, char **argv)
{
  int n = N;
  POLYBENCH_2D_ARRAY_DECL(path, DATA_TYPE, N, N, n, n);

  init_array(n, POLYBENCH_ARRAY(path));

  polybench_start_instruments;
  kernel_floyd_warshall(n, POLYBENCH_ARRAY(path));
  polybench_stop_instruments;
  polybench_print_instruments;

  polybench_prevent_dce(print_array(n, POLYBENCH_ARRAY(path)));

  POLYBENCH_FREE_ARRAY(path);
  return 0;
}
