void kernel(int n, double A[100], double B[100])
{
  int i, j;
#pragma scop
  switch (n) {
  case 1:
    A[0] = 1.0;
    break;
  default:
    A[0] = 0.0;
  }
#pragma endscop
}
