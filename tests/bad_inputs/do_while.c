void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  i = 0;
  do {
    A[i] = 0.0;
    i += 1;
  } while (i < n);
#pragma endscop
}
