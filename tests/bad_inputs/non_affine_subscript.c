void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  for (i = 0; i < 10; i++)
    for (j = 0; j < 10; j++)
      A[i * j] = B[j];
#pragma endscop
}
