/* gemm: sizes and types. */
#ifndef GEMM_H
#define GEMM_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define GEMM_NI 20
#define GEMM_NJ 25
#define GEMM_NK 30
#elif defined(SMALL_DATASET)
#define GEMM_NI 60
#define GEMM_NJ 70
#define GEMM_NK 80
#elif defined(MEDIUM_DATASET)
#define GEMM_NI 200
#define GEMM_NJ 220
#define GEMM_NK 240
#elif defined(LARGE_DATASET)
#define GEMM_NI 1000
#define GEMM_NJ 1100
#define GEMM_NK 1200
#else
#define GEMM_NI 2000
#define GEMM_NJ 2300
#define GEMM_NK 2600
#endif

/* -DNI=... overrides one parameter of the chosen dataset. */
#ifndef NI
#define NI GEMM_NI
#endif
#ifndef NJ
#define NJ GEMM_NJ
#endif
#ifndef NK
#define NK GEMM_NK
#endif

#define _PB_NI POLYBENCH_LOOP_BOUND(NI, ni)
#define _PB_NJ POLYBENCH_LOOP_BOUND(NJ, nj)
#define _PB_NK POLYBENCH_LOOP_BOUND(NK, nk)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* GEMM_H */
