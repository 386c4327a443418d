#define LOOP(v, bound) for (v = 0; v < (bound); v++)
void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  LOOP(i, n)
    A[i] = 0.0;
#pragma endscop
}
