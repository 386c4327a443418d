void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
#pragma endscop
}
