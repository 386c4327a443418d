/* deriche: sizes and types. */
#ifndef DERICHE_H
#define DERICHE_H

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && !defined(MEDIUM_DATASET) && \
    !defined(LARGE_DATASET) && !defined(EXTRALARGE_DATASET)
#define LARGE_DATASET
#endif

#if defined(MINI_DATASET)
#define DERICHE_W_SIZE 64
#define DERICHE_H_SIZE 64
#elif defined(SMALL_DATASET)
#define DERICHE_W_SIZE 192
#define DERICHE_H_SIZE 128
#elif defined(MEDIUM_DATASET)
#define DERICHE_W_SIZE 720
#define DERICHE_H_SIZE 480
#elif defined(LARGE_DATASET)
#define DERICHE_W_SIZE 4096
#define DERICHE_H_SIZE 2160
#else
#define DERICHE_W_SIZE 7680
#define DERICHE_H_SIZE 4320
#endif

/* -DW=... overrides one parameter of the chosen dataset (DERICHE_H is the header guard, hence
   the _SIZE suffix on the dataset values). */
#ifndef W
#define W DERICHE_W_SIZE
#endif
#ifndef H
#define H DERICHE_H_SIZE
#endif

#define _PB_W POLYBENCH_LOOP_BOUND(W, w)
#define _PB_H POLYBENCH_LOOP_BOUND(H, h)

#if !defined(DATA_TYPE_IS_INT) && !defined(DATA_TYPE_IS_FLOAT) && !defined(DATA_TYPE_IS_DOUBLE)
#define DATA_TYPE_IS_FLOAT
#endif
#include "polybench_types.h"

#endif /* DERICHE_H */
