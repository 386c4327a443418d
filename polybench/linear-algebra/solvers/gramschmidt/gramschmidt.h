/* gramschmidt: sizes and types. */
#ifndef GRAMSCHMIDT_H
#define GRAMSCHMIDT_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define GRAMSCHMIDT_M 20
#define GRAMSCHMIDT_N 30
#elif defined(SMALL_DATASET)
#define GRAMSCHMIDT_M 60
#define GRAMSCHMIDT_N 80
#elif defined(MEDIUM_DATASET)
#define GRAMSCHMIDT_M 200
#define GRAMSCHMIDT_N 240
#elif defined(LARGE_DATASET)
#define GRAMSCHMIDT_M 1000
#define GRAMSCHMIDT_N 1200
#else
#define GRAMSCHMIDT_M 2000
#define GRAMSCHMIDT_N 2600
#endif

/* -DM=... overrides one parameter of the chosen dataset. */
#ifndef M
#define M GRAMSCHMIDT_M
#endif
#ifndef N
#define N GRAMSCHMIDT_N
#endif

#define _PB_M POLYBENCH_LOOP_BOUND(M, m)
#define _PB_N POLYBENCH_LOOP_BOUND(N, n)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* GRAMSCHMIDT_H */
