/* jacobi-1d: sizes and types. */
#ifndef JACOBI_1D_H
#define JACOBI_1D_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define JACOBI_1D_TSTEPS 20
#define JACOBI_1D_N 30
#elif defined(SMALL_DATASET)
#define JACOBI_1D_TSTEPS 40
#define JACOBI_1D_N 120
#elif defined(MEDIUM_DATASET)
#define JACOBI_1D_TSTEPS 100
#define JACOBI_1D_N 400
#elif defined(LARGE_DATASET)
#define JACOBI_1D_TSTEPS 500
#define JACOBI_1D_N 2000
#else
#define JACOBI_1D_TSTEPS 1000
#define JACOBI_1D_N 4000
#endif

/* -DTSTEPS=... overrides one parameter of the chosen dataset. */
#ifndef TSTEPS
#define TSTEPS JACOBI_1D_TSTEPS
#endif
#ifndef N
#define N JACOBI_1D_N
#endif

#define _PB_TSTEPS POLYBENCH_LOOP_BOUND(TSTEPS, tsteps)
#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* JACOBI_1D_H */
