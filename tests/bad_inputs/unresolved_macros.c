void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  for (i = 0; i < UNKNOWN_N; i++)
    A[i] = SCALE(B[i]);
#pragma endscop
}
