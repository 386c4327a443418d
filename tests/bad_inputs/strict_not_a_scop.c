void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  i = 0;
  while (i < n) {
    A[i] = 0.0;
    i++;
  }
#pragma endscop
}
