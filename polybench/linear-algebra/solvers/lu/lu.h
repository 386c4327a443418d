/* lu: sizes and types. */
#ifndef LU_H
#define LU_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define LU_N 40
#elif defined(SMALL_DATASET)
#define LU_N 120
#elif defined(MEDIUM_DATASET)
#define LU_N 400
#elif defined(LARGE_DATASET)
#define LU_N 2000
#else
#define LU_N 4000
#endif

/* -DN=... overrides one parameter of the chosen dataset. */
#ifndef N
#define N LU_N
#endif

#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* LU_H */
