/*
 * Element type of a kernel and the helpers that follow it. A kernel's header picks its default
 * with DATA_TYPE_IS_INT, DATA_TYPE_IS_FLOAT or DATA_TYPE_IS_DOUBLE before including this file.
 */
#ifndef LOOPER_POLYBENCH_TYPES_H
#define LOOPER_POLYBENCH_TYPES_H

#include <math.h>

#ifdef DATA_TYPE_IS_INT
#define DATA_TYPE int
#define DATA_PRINTF_MODIFIER "%d "
#define SCALAR_VAL(x) x
#endif

#ifdef DATA_TYPE_IS_FLOAT
#define DATA_TYPE float
#define DATA_PRINTF_MODIFIER "%.9g "
#define SCALAR_VAL(x) x##f
#define SQRT_FUN(x) sqrtf(x)
#define EXP_FUN(x) expf(x)
#define POW_FUN(x, y) powf(x, y)
#endif

#ifdef DATA_TYPE_IS_DOUBLE
#define DATA_TYPE double
#define DATA_PRINTF_MODIFIER "%.17g "
#define SCALAR_VAL(x) x
#define SQRT_FUN(x) sqrt(x)
#define EXP_FUN(x) exp(x)
#define POW_FUN(x, y) pow(x, y)
#endif

#endif /* LOOPER_POLYBENCH_TYPES_H */
