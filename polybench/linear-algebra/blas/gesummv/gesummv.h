/* gesummv: sizes and types. */
#ifndef GESUMMV_H
#define GESUMMV_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define GESUMMV_N 30
#elif defined(SMALL_DATASET)
#define GESUMMV_N 90
#elif defined(MEDIUM_DATASET)
#define GESUMMV_N 250
#elif defined(LARGE_DATASET)
#define GESUMMV_N 1300
#else
#define GESUMMV_N 2800
#endif

/* -DN=... overrides one parameter of the chosen dataset. */
#ifndef N
#define N GESUMMV_N
#endif

#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* GESUMMV_H */
