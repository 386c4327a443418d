/*
 * looper's PolyBench harness: the macros and helpers every kernel in polybench/ uses.
 *
 * Written for looper; it follows the conventions of PolyBench/C 4.2.1 (macro names, dataset
 * selection, dump markers) so that kernels written against either harness read the same.
 *
 *   -DPOLYBENCH_TIME          print the kernel's wall-clock seconds on stdout
 *   -DPOLYBENCH_DUMP_ARRAYS   dump the live-out arrays to stderr (see polybench_dump_*)
 *   -DMINI_DATASET ... -DEXTRALARGE_DATASET   pick the standard sizes (LARGE by default)
 *   -DN=123 (etc.)            override one parameter of the chosen dataset
 *   -DPOLYBENCH_CACHE_SIZE_KB=65536   bytes of cache to flush before the timed region
 */
#ifndef LOOPER_POLYBENCH_H
#define LOOPER_POLYBENCH_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

/* Loop bounds: the kernel's scalar parameters (n, m, ...) unless the constants are asked for. */
#ifdef POLYBENCH_USE_SCALAR_LB
#define POLYBENCH_LOOP_BOUND(x, y) x
#else
#define POLYBENCH_LOOP_BOUND(x, y) y
#endif

/* Array parameters of a kernel: plain C arrays with the dataset's compile-time sizes. */
#define POLYBENCH_1D(var, d1, dd1) var[d1]
#define POLYBENCH_2D(var, d1, d2, dd1, dd2) var[d1][d2]
#define POLYBENCH_3D(var, d1, d2, d3, dd1, dd2, dd3) var[d1][d2][d3]
#define POLYBENCH_4D(var, d1, d2, d3, d4, dd1, dd2, dd3, dd4) var[d1][d2][d3][d4]

/* Arrays in main(): heap-allocated (too large for the stack), used through POLYBENCH_ARRAY. */
#define POLYBENCH_1D_ARRAY_DECL(var, type, d1, dd1) \
  type(*var)[d1] = (type(*)[d1])polybench_alloc_data((size_t)(d1), sizeof(type))
#define POLYBENCH_2D_ARRAY_DECL(var, type, d1, d2, dd1, dd2) \
  type(*var)[d1][d2] = (type(*)[d1][d2])polybench_alloc_data((size_t)(d1) * (size_t)(d2), sizeof(type))
#define POLYBENCH_3D_ARRAY_DECL(var, type, d1, d2, d3, dd1, dd2, dd3)           \
  type(*var)[d1][d2][d3] = (type(*)[d1][d2][d3])polybench_alloc_data(           \
      (size_t)(d1) * (size_t)(d2) * (size_t)(d3), sizeof(type))
#define POLYBENCH_ARRAY(x) (*(x))
#define POLYBENCH_FREE_ARRAY(x) free((void *)(x))

/* Timing. */
#ifdef POLYBENCH_TIME
#define polybench_start_instruments polybench_timer_start()
#define polybench_stop_instruments polybench_timer_stop()
#define polybench_print_instruments polybench_timer_print()
#else
#define polybench_start_instruments
#define polybench_stop_instruments
#define polybench_print_instruments
#endif

/* Dumps: one block per live-out array, values in full precision, 20 per line. */
#define POLYBENCH_DUMP_TARGET stderr
#define POLYBENCH_DUMP_START fprintf(POLYBENCH_DUMP_TARGET, "==BEGIN DUMP_ARRAYS==\n")
#define POLYBENCH_DUMP_FINISH fprintf(POLYBENCH_DUMP_TARGET, "==END   DUMP_ARRAYS==\n")
#define POLYBENCH_DUMP_BEGIN(s) fprintf(POLYBENCH_DUMP_TARGET, "begin dump: %s", s)
#define POLYBENCH_DUMP_END(s) fprintf(POLYBENCH_DUMP_TARGET, "\nend   dump: %s\n", s)
/* A new line every 20 values; the index is the flat (row-major) element index. */
#define POLYBENCH_DUMP_NEWLINE(flat) \
  do { if ((flat) % 20 == 0) fprintf(POLYBENCH_DUMP_TARGET, "\n"); } while (0)

/* Print the results when asked to; otherwise only pretend to, so they are not optimized away. */
#ifdef POLYBENCH_DUMP_ARRAYS
#define polybench_prevent_dce(func) func
#else
#define polybench_prevent_dce(func) \
  do { if (argc > 42 && !strcmp(argv[0], "")) func; } while (0)
#endif

void *polybench_alloc_data(size_t n, int elt_size);
void polybench_flush_cache(void);
void polybench_timer_start(void);
void polybench_timer_stop(void);
void polybench_timer_print(void);

#endif /* LOOPER_POLYBENCH_H */
