/* heat-3d: sizes and types. */
#ifndef HEAT_3D_H
#define HEAT_3D_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define HEAT_3D_TSTEPS 20
#define HEAT_3D_N 10
#elif defined(SMALL_DATASET)
#define HEAT_3D_TSTEPS 40
#define HEAT_3D_N 20
#elif defined(MEDIUM_DATASET)
#define HEAT_3D_TSTEPS 100
#define HEAT_3D_N 40
#elif defined(LARGE_DATASET)
#define HEAT_3D_TSTEPS 500
#define HEAT_3D_N 120
#else
#define HEAT_3D_TSTEPS 1000
#define HEAT_3D_N 200
#endif

/* -DTSTEPS=... overrides one parameter of the chosen dataset. */
#ifndef TSTEPS
#define TSTEPS HEAT_3D_TSTEPS
#endif
#ifndef N
#define N HEAT_3D_N
#endif

#define _PB_TSTEPS POLYBENCH_LOOP_BOUND(TSTEPS, tsteps)
#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* HEAT_3D_H */
