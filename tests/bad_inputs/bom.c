#define N 100
void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  for (i = 0; i < N; i++)
    A[i] = B[i];
#pragma endscop
}
