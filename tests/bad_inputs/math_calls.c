#include <math.h>
#define SQRT_FUN(x) sqrt(x)
void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  for (i = 0; i < n; i++)
    A[i] = SQRT_FUN(fabs(B[i])) + exp(B[i]) * powf(2.0f, 3.0f);
#pragma endscop
}
