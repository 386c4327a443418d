/* syrk: sizes and types. */
#ifndef SYRK_H
#define SYRK_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define SYRK_M 20
#define SYRK_N 30
#elif defined(SMALL_DATASET)
#define SYRK_M 60
#define SYRK_N 80
#elif defined(MEDIUM_DATASET)
#define SYRK_M 200
#define SYRK_N 240
#elif defined(LARGE_DATASET)
#define SYRK_M 1000
#define SYRK_N 1200
#else
#define SYRK_M 2000
#define SYRK_N 2600
#endif

/* -DM=... overrides one parameter of the chosen dataset. */
#ifndef M
#define M SYRK_M
#endif
#ifndef N
#define N SYRK_N
#endif

#define _PB_M POLYBENCH_LOOP_BOUND(M, m)
#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* SYRK_H */
