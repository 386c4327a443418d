void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  for (i = 0; i < 09; i++)
    A[i] = 0.0;
#pragma endscop
}
