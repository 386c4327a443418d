/* doitgen: sizes and types. */
#ifndef DOITGEN_H
#define DOITGEN_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define DOITGEN_NQ 8
#define DOITGEN_NR 10
#define DOITGEN_NP 12
#elif defined(SMALL_DATASET)
#define DOITGEN_NQ 20
#define DOITGEN_NR 25
#define DOITGEN_NP 30
#elif defined(MEDIUM_DATASET)
#define DOITGEN_NQ 40
#define DOITGEN_NR 50
#define DOITGEN_NP 60
#elif defined(LARGE_DATASET)
#define DOITGEN_NQ 140
#define DOITGEN_NR 150
#define DOITGEN_NP 160
#else
#define DOITGEN_NQ 220
#define DOITGEN_NR 250
#define DOITGEN_NP 270
#endif

/* -DNQ=... overrides one parameter of the chosen dataset. */
#ifndef NQ
#define NQ DOITGEN_NQ
#endif
#ifndef NR
#define NR DOITGEN_NR
#endif
#ifndef NP
#define NP DOITGEN_NP
#endif

#define _PB_NQ POLYBENCH_LOOP_BOUND(NQ, nq)
#define _PB_NR POLYBENCH_LOOP_BOUND(NR, nr)
#define _PB_NP POLYBENCH_LOOP_BOUND(NP, np)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_DOUBLE
#endif
#include "polybench_types.h"

#endif /* DOITGEN_H */
