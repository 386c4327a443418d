/* adi: sizes and types. */
#ifndef ADI_H
#define ADI_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define ADI_TSTEPS 20
#define ADI_N 20
#elif defined(SMALL_DATASET)
#define ADI_TSTEPS 40
#define ADI_N 60
#elif defined(MEDIUM_DATASET)
#define ADI_TSTEPS 100
#define ADI_N 200
#elif defined(LARGE_DATASET)
#define ADI_TSTEPS 500
#define ADI_N 1000
#else
#define ADI_TSTEPS 1000
#define ADI_N 2000
#endif

/* -DTSTEPS=... overrides one parameter of the chosen dataset. */
#ifndef TSTEPS
#define TSTEPS ADI_TSTEPS
#endif
#ifndef N
#define N ADI_N
#endif

#define _PB_TSTEPS POLYBENCH_LOOP_BOUND(TSTEPS, tsteps)
#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* ADI_H */
