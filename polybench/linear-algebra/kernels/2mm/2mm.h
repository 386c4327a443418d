/* 2mm: sizes and types. */
#ifndef K2MM_H
#define K2MM_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define K2MM_NI 16
#define K2MM_NJ 18
#define K2MM_NK 22
#define K2MM_NL 24
#elif defined(SMALL_DATASET)
#define K2MM_NI 40
#define K2MM_NJ 50
#define K2MM_NK 70
#define K2MM_NL 80
#elif defined(MEDIUM_DATASET)
#define K2MM_NI 180
#define K2MM_NJ 190
#define K2MM_NK 210
#define K2MM_NL 220
#elif defined(LARGE_DATASET)
#define K2MM_NI 800
#define K2MM_NJ 900
#define K2MM_NK 1100
#define K2MM_NL 1200
#else
#define K2MM_NI 1600
#define K2MM_NJ 1800
#define K2MM_NK 2200
#define K2MM_NL 2400
#endif

/* -DNI=... overrides one parameter of the chosen dataset. */
#ifndef NI
#define NI K2MM_NI
#endif
#ifndef NJ
#define NJ K2MM_NJ
#endif
#ifndef NK
#define NK K2MM_NK
#endif
#ifndef NL
#define NL K2MM_NL
#endif

#define _PB_NI POLYBENCH_LOOP_BOUND(NI, ni)
#define _PB_NJ POLYBENCH_LOOP_BOUND(NJ, nj)
#define _PB_NK POLYBENCH_LOOP_BOUND(NK, nk)
#define _PB_NL POLYBENCH_LOOP_BOUND(NL, nl)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* K2MM_H */
