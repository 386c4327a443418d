/* fdtd-2d: sizes and types. */
#ifndef FDTD_2D_H
#define FDTD_2D_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define FDTD_2D_TMAX 20
#define FDTD_2D_NX 20
#define FDTD_2D_NY 30
#elif defined(SMALL_DATASET)
#define FDTD_2D_TMAX 40
#define FDTD_2D_NX 60
#define FDTD_2D_NY 80
#elif defined(MEDIUM_DATASET)
#define FDTD_2D_TMAX 100
#define FDTD_2D_NX 200
#define FDTD_2D_NY 240
#elif defined(LARGE_DATASET)
#define FDTD_2D_TMAX 500
#define FDTD_2D_NX 1000
#define FDTD_2D_NY 1200
#else
#define FDTD_2D_TMAX 1000
#define FDTD_2D_NX 2000
#define FDTD_2D_NY 2600
#endif

/* -DTMAX=... overrides one parameter of the chosen dataset. */
#ifndef TMAX
#define TMAX FDTD_2D_TMAX
#endif
#ifndef NX
#define NX FDTD_2D_NX
#endif
#ifndef NY
#define NY FDTD_2D_NY
#endif

#define _PB_TMAX POLYBENCH_LOOP_BOUND(TMAX, tmax)
#define _PB_NX POLYBENCH_LOOP_BOUND(NX, nx)
#define _PB_NY POLYBENCH_LOOP_BOUND(NY, ny)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* FDTD_2D_H */
