void kernel(int n, double A[100], double B[100], int idx[100])
{
  int i;
#pragma scop
  for (i = 0; i < n; i++)
    A[idx[i]] = B[i];
#pragma endscop
}
