void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  for (i = 0; i < 99999999999999999999999; i++)
    A[i % 100] = 0.0;
#pragma endscop
}
