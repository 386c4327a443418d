/* floyd-warshall: sizes and types. */
#ifndef FLOYD_WARSHALL_H
#define FLOYD_WARSHALL_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define FLOYD_WARSHALL_N 60
#elif defined(SMALL_DATASET)
#define FLOYD_WARSHALL_N 180
#elif defined(MEDIUM_DATASET)
#define FLOYD_WARSHALL_N 500
#elif defined(LARGE_DATASET)
#define FLOYD_WARSHALL_N 2800
#else
#define FLOYD_WARSHALL_N 5600
#endif

/* -DN=... overrides one parameter of the chosen dataset. */
#ifndef N
#define N FLOYD_WARSHALL_N
#endif

#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_INT
#endif
#include "polybench_types.h"

#endif /* FLOYD_WARSHALL_H */
