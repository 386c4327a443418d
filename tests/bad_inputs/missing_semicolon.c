void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  for (i = 0; i < n; i++)
    A[i] = A[i] + 1.0
  B[0] = 0.0;
#pragma endscop
}
