/* 3mm: sizes and types. */
#ifndef K3MM_H
#define K3MM_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define K3MM_NI 16
#define K3MM_NJ 18
#define K3MM_NK 20
#define K3MM_NL 22
#define K3MM_NM 24
#elif defined(SMALL_DATASET)
#define K3MM_NI 40
#define K3MM_NJ 50
#define K3MM_NK 60
#define K3MM_NL 70
#define K3MM_NM 80
#elif defined(MEDIUM_DATASET)
#define K3MM_NI 180
#define K3MM_NJ 190
#define K3MM_NK 200
#define K3MM_NL 210
#define K3MM_NM 220
#elif defined(LARGE_DATASET)
#define K3MM_NI 800
#define K3MM_NJ 900
#define K3MM_NK 1000
#define K3MM_NL 1100
#define K3MM_NM 1200
#else
#define K3MM_NI 1600
#define K3MM_NJ 1800
#define K3MM_NK 2000
#define K3MM_NL 2200
#define K3MM_NM 2400
#endif

/* -DNI=... overrides one parameter of the chosen dataset. */
#ifndef NI
#define NI K3MM_NI
#endif
#ifndef NJ
#define NJ K3MM_NJ
#endif
#ifndef NK
#define NK K3MM_NK
#endif
#ifndef NL
#define NL K3MM_NL
#endif
#ifndef NM
#define NM K3MM_NM
#endif

#define _PB_NI POLYBENCH_LOOP_BOUND(NI, ni)
#define _PB_NJ POLYBENCH_LOOP_BOUND(NJ, nj)
#define _PB_NK POLYBENCH_LOOP_BOUND(NK, nk)
#define _PB_NL POLYBENCH_LOOP_BOUND(NL, nl)
#define _PB_NM POLYBENCH_LOOP_BOUND(NM, nm)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* K3MM_H */
