void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  double *p = A;
  for (i = 0; i < n; i++)
    p[i] = B[i];
#pragma endscop
}
