/* looper's PolyBench harness: allocation, cache flushing and the kernel timer. */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "polybench.h"

#ifndef POLYBENCH_CACHE_SIZE_KB
/* Twice the 32 MiB last-level cache of the machines looper is tuned on. */
#define POLYBENCH_CACHE_SIZE_KB 65536
#endif

static double polybench_t_start, polybench_t_end;

void *polybench_alloc_data(size_t n, int elt_size)
{
  void *p = NULL;
  size_t bytes = n * (size_t)elt_size;
  /* Page-aligned, as PolyBench/C 4.2.1's own allocator: every array starts at the same offset in its
     page whatever the heap's state, so a kernel meets the same relative layout of its arrays (the same
     cache-set and 4 KiB-aliasing conflicts) in a fresh process and in the measurement harness's worker. */
  if (posix_memalign(&p, 4096, bytes ? bytes : 1) != 0 || p == NULL) {
    fprintf(stderr, "polybench: cannot allocate %zu bytes\n", bytes);
    exit(1);
  }
  return p;
}

void polybench_flush_cache(void)
{
  /* Written, not calloc'd and read: reading untouched calloc'd memory reads the kernel's one shared
   * zero page again and again, which flushes nothing. */
  size_t n = (size_t)POLYBENCH_CACHE_SIZE_KB * 1024 / sizeof(double);
  volatile double *buf = (volatile double *)malloc(n * sizeof(double));
  size_t i;
  if (buf == NULL)
    return;
  for (i = 0; i < n; i += 8)
    buf[i] = (double)i;
  free((void *)buf);
}

static double polybench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void polybench_timer_start(void)
{
  polybench_flush_cache();
  polybench_t_start = polybench_now();
}

void polybench_timer_stop(void)
{
  polybench_t_end = polybench_now();
}

void polybench_timer_print(void)
{
  printf("%0.9f\n", polybench_t_end - polybench_t_start);
}
