"""The C runtime linked into every library of variants: timers, the cache flush, fresh state per run.

One translation unit of its own (`_GNU_SOURCE`, `<link.h>`), compiled once per compiler and linked
into each library. What it guarantees for every timed run:

- fresh state: the library's writable data (globals, statics) is restored to its state at load
  before each run, and the program's main() runs whole, so every array is allocated and
  initialized again before the kernel runs;
- a real flush before the first timed region of a run: a buffer (twice the L2 cache, allocated
  once and written at load, so its pages are real and distinct, not the shared zero page) is read,
  then every cache line of the program's own data (the blocks it allocated through
  `polybench_alloc_data`, the library's globals, the stack below main) is evicted from every level
  with `clflushopt`. A buffer larger than the last-level cache would be the portable way, but this
  VM reports a 300 MiB L3: reading 320 MiB took 70 ms a run, more than most kernels;
- OpenMP threads created at load (OMP_WAIT_POLICY comes from the worker's environment);
- the code's pages touched at load, so no run pays page faults for code.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from codegen.build import Compiler, cache_dir, object_file

# The composed file's first lines: the runtime's functions it calls, and exit() ending main() (what a
# process does) instead of the worker: stdlib.h first, so that its own declaration of exit stays.
DECLARATIONS = """\
#include <setjmp.h>
#include <stdlib.h>
void looper_region_begin(void);
void looper_region_end(void);
void looper_begin_run(void);
double looper_end_run(int status);
jmp_buf *looper_exit_point(void);
int looper_exit_status(void);
__attribute__((noreturn)) void looper_exit(int status);
#define exit(status) looper_exit(status)
"""

SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOOPER_X86 1
#endif

#define LOOPER_API __attribute__((visibility("default")))
#define LOOPER_MAX_SEGMENTS 8

struct looper_span { char *at; size_t size; char *copy; };

/* On the heap: restoring the library's data before a run must not reset the runtime itself. */
struct looper_state {
  char *flush;
  size_t flush_bytes;
  struct looper_span segments[LOOPER_MAX_SEGMENTS];
  int n_segments;
  struct looper_span *blocks;
  int n_blocks, cap_blocks;
  char *stack_top;
  double start, elapsed;
  int flushed, status, exit_status, saved_out, saved_err;
  jmp_buf exit_point;
  long flushed_lines, flushes;
};

static struct looper_state *looper_S;

static double looper_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Evict every cache line of [at, at + size) from every cache level. */
static void looper_evict(const char *at, size_t size)
{
#ifdef LOOPER_X86
  const char *end = at + size;
  const char *p = (const char *)((uintptr_t)at & ~(uintptr_t)63);
  for (; p < end; p += 64) {
#ifdef __CLFLUSHOPT__
    _mm_clflushopt((void *)p);
#else
    _mm_clflush(p);
#endif
    looper_S->flushed_lines++;
  }
#else
  (void)at;
  (void)size;
#endif
}

static void looper_flush(void)
{
  struct looper_state *S = looper_S;
  volatile char sink;
  char acc = 0;
  size_t i;
  for (i = 0; i < S->flush_bytes; i += 64)
    acc ^= S->flush[i];
  sink = acc;
  (void)sink;
  for (i = 0; i < (size_t)S->n_blocks; i++)
    looper_evict(S->blocks[i].at, S->blocks[i].size);
  for (i = 0; i < (size_t)S->n_segments; i++)
    looper_evict(S->segments[i].at, S->segments[i].size);
  if (S->stack_top) {
    char *here = (char *)__builtin_frame_address(0);
    if (here < S->stack_top)
      looper_evict(here, (size_t)(S->stack_top - here));
  }
#ifdef LOOPER_X86
  _mm_mfence();
#endif
  S->flushes++;
}

void looper_region_begin(void)
{
  struct looper_state *S = looper_S;
  if (!S->flushed) {
    looper_flush();
    S->flushed = 1;
  }
  S->start = looper_now();
}

void looper_region_end(void)
{
  looper_S->elapsed += looper_now() - looper_S->start;
}

void looper_begin_run(void)
{
  struct looper_state *S = looper_S;
  int i;
  for (i = 0; i < S->n_segments; i++)
    memcpy(S->segments[i].at, S->segments[i].copy, S->segments[i].size);
  looper_S = S;
  S->n_blocks = 0;
  S->elapsed = 0.0;
  S->flushed = 0;
  S->status = 0;
}

/* exit() in the program: back to looper_run with the status, as the end of a process would be. */
jmp_buf *looper_exit_point(void) { return &looper_S->exit_point; }
int looper_exit_status(void) { return looper_S->exit_status; }
void looper_exit(int status)
{
  fflush(NULL);
  looper_S->exit_status = status;
  longjmp(looper_S->exit_point, 1);
}

double looper_end_run(int status)
{
  looper_S->status = status;
  return looper_S->elapsed;
}

#ifdef LOOPER_POLYBENCH_ALLOC
/* PolyBench's allocator, as in polybench/utilities/polybench.c, remembering each block for the flush. */
void *polybench_alloc_data(size_t n, int elt_size)
{
  struct looper_state *S = looper_S;
  size_t bytes = n * (size_t)elt_size;
  void *p = NULL;
  if (posix_memalign(&p, 4096, bytes ? bytes : 1) != 0 || p == NULL) {  /* page-aligned, as polybench.c */
    fprintf(stderr, "polybench: cannot allocate %zu bytes\n", bytes);
    exit(1);
  }
  if (S->n_blocks == S->cap_blocks) {
    S->cap_blocks = S->cap_blocks ? 2 * S->cap_blocks : 64;
    S->blocks = (struct looper_span *)realloc(S->blocks, (size_t)S->cap_blocks * sizeof *S->blocks);
  }
  S->blocks[S->n_blocks].at = (char *)p;
  S->blocks[S->n_blocks].size = bytes;
  S->n_blocks++;
  return p;
}
void polybench_flush_cache(void) {}
void polybench_timer_start(void) {}
void polybench_timer_stop(void) {}
void polybench_timer_print(void) {}
#endif

/* Record the library's writable data (minus what the loader made read-only) and touch its code. */
static int looper_phdr(struct dl_phdr_info *info, size_t size, void *self)
{
  struct looper_state *S = looper_S;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), relro_end = 0, mine = 0;
  volatile char touch;
  int i;
  (void)size;
  for (i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && (uintptr_t)self >= lo && (uintptr_t)self < lo + ph->p_memsz)
      mine = 1;
    if (ph->p_type == PT_GNU_RELRO)
      relro_end = (lo + ph->p_memsz) & ~(page - 1);
  }
  if (!mine)
    return 0;
  for (i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz, p;
    if (ph->p_type != PT_LOAD)
      continue;
    if (ph->p_flags & PF_W) {
      if (lo < relro_end)
        lo = relro_end;
      if (lo < hi && S->n_segments < LOOPER_MAX_SEGMENTS) {
        struct looper_span *s = &S->segments[S->n_segments++];
        s->at = (char *)lo;
        s->size = hi - lo;
      }
    } else {
      for (p = lo & ~(page - 1); p < hi; p += page)
        touch = *(volatile char *)p;
    }
  }
  (void)touch;
  return 1;
}

static size_t looper_flush_size(void)
{
  const char *env = getenv("LOOPER_FLUSH_BYTES");
  long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE), l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (env && *env)
    return (size_t)strtoull(env, NULL, 10);
  if (l2 <= 0)
    l2 = 4L << 20;
#ifdef LOOPER_X86
  (void)l3;
  return 2 * (size_t)l2;
#else
  /* No line-by-line eviction of the program's data here: the buffer is the whole flush. */
  return 2 * (size_t)(l3 > l2 ? l3 : l2);
#endif
}

LOOPER_API int looper_init(void)
{
  struct looper_state *S = (struct looper_state *)calloc(1, sizeof *S);
  pthread_attr_t attr;
  void *stack;
  size_t stack_size, i;
  int k;
  looper_S = S;
#ifdef __GLIBC__
  /* Arrays of up to 32 MiB come from the heap and stay there between runs: no page faults each run. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  S->flush_bytes = looper_flush_size();
  S->flush = (char *)malloc(S->flush_bytes ? S->flush_bytes : 1);
  for (i = 0; i < S->flush_bytes; i++)
    S->flush[i] = (char)(1 + i % 251);
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    if (pthread_attr_getstack(&attr, &stack, &stack_size) == 0)
      S->stack_top = (char *)stack + stack_size;
    pthread_attr_destroy(&attr);
  }
#ifdef _OPENMP
#pragma omp parallel
  {
    volatile int started = 1;
    (void)started;
  }
#endif
  dl_iterate_phdr(looper_phdr, (void *)looper_init);
  for (k = 0; k < S->n_segments; k++) {
    S->segments[k].copy = (char *)malloc(S->segments[k].size);
    memcpy(S->segments[k].copy, S->segments[k].at, S->segments[k].size);
  }
  return S->n_segments;
}

/* Free what looper_init allocated: a worker loads one library after another. */
LOOPER_API void looper_fini(void)
{
  struct looper_state *S = looper_S;
  int k;
  for (k = 0; k < S->n_segments; k++)
    free(S->segments[k].copy);
  free(S->blocks);
  free(S->flush);
  free(S);
  looper_S = NULL;
}

LOOPER_API int looper_status(void) { return looper_S->status; }
LOOPER_API long looper_flushed_lines(void) { return looper_S->flushed_lines; }
LOOPER_API long looper_flushes(void) { return looper_S->flushes; }
LOOPER_API size_t looper_flush_bytes(void) { return looper_S->flush_bytes; }

/* How many bytes of the flush buffer are zero (0: it was written, its pages are real). */
LOOPER_API size_t looper_flush_zeros(void)
{
  size_t i, zeros = 0;
  for (i = 0; i < looper_S->flush_bytes; i++)
    zeros += looper_S->flush[i] == 0;
  return zeros;
}

/* Send what the program prints (stdout and stderr) to `fd` until looper_capture_end. */
LOOPER_API void looper_capture_begin(int fd)
{
  fflush(NULL);
  looper_S->saved_out = dup(1);
  looper_S->saved_err = dup(2);
  dup2(fd, 1);
  dup2(fd, 2);
}

LOOPER_API void looper_capture_end(void)
{
  fflush(NULL);
  dup2(looper_S->saved_out, 1);
  dup2(looper_S->saved_err, 2);
  close(looper_S->saved_out);
  close(looper_S->saved_err);
}
"""

def runtime_object(compiler: Compiler, polybench_alloc: bool) -> Path:
    """The runtime compiled for a compiler (flags and OpenMP; no program's definitions), once."""
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:16]
    source = cache_dir() / f"looper-runtime-{digest}.c"
    if not source.exists():
        tmp = source.with_name(f".{source.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(SOURCE)
        tmp.replace(source)
    plain = compiler.with_(include_dirs=(), defines={"LOOPER_POLYBENCH_ALLOC": None} if polybench_alloc else {})
    return object_file(source, plain, ["-fPIC"])
