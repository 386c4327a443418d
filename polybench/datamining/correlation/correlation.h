/* correlation: sizes and types. */
#ifndef CORRELATION_H
#define CORRELATION_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define CORRELATION_M 28
#define CORRELATION_N 32
#elif defined(SMALL_DATASET)
#define CORRELATION_M 80
#define CORRELATION_N 100
#elif defined(MEDIUM_DATASET)
#define CORRELATION_M 240
#define CORRELATION_N 260
#elif defined(LARGE_DATASET)
#define CORRELATION_M 1200
#define CORRELATION_N 1400
#else
#define CORRELATION_M 2600
#define CORRELATION_N 3000
#endif

/* -DM=... overrides one parameter of the chosen dataset. */
#ifndef M
#define M CORRELATION_M
#endif
#ifndef N
#define N CORRELATION_N
#endif

#define _PB_M POLYBENCH_LOOP_BOUND(M, m)
#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* CORRELATION_H */
