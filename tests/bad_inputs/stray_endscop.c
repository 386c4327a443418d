void kernel(int n, double A[100], double B[100])
{
  int i, j;
  A[0] = 1.0;
#pragma endscop
}
