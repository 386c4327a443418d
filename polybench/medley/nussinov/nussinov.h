/* nussinov: sizes and types. */
#ifndef NUSSINOV_H
#define NUSSINOV_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define NUSSINOV_N 60
#elif defined(SMALL_DATASET)
#define NUSSINOV_N 180
#elif defined(MEDIUM_DATASET)
#define NUSSINOV_N 500
#elif defined(LARGE_DATASET)
#define NUSSINOV_N 2500
#else
#define NUSSINOV_N 5500
#endif

/* -DN=... overrides one parameter of the chosen dataset. */
#ifndef N
#define N NUSSINOV_N
#endif

#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_INT
#endif
#include "polybench_types.h"

/* A sequence of RNA bases, coded 0..3 (A, C, G, U): complementary pairs sum to 3. */
typedef char base;

/* 1 when two bases can pair (A-U or C-G), 0 otherwise. */
#define match(b1, b2) (((b1) + (b2)) == 3 ? 1 : 0)
/* The better of two scores. */
#define max_score(s1, s2) ((s1) >= (s2) ? (s1) : (s2))

#endif /* NUSSINOV_H */
