/* bicg: sizes and types. */
#ifndef BICG_H
#define BICG_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define BICG_M 38
#define BICG_N 42
#elif defined(SMALL_DATASET)
#define BICG_M 116
#define BICG_N 124
#elif defined(MEDIUM_DATASET)
#define BICG_M 390
#define BICG_N 410
#elif defined(LARGE_DATASET)
#define BICG_M 1900
#define BICG_N 2100
#else
#define BICG_M 1800
#define BICG_N 2200
#endif

/* -DM=... overrides one parameter of the chosen dataset. */
#ifndef M
#define M BICG_M
#endif
#ifndef N
#define N BICG_N
#endif

#define _PB_M POLYBENCH_LOOP_BOUND(M, m)
#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* BICG_H */
