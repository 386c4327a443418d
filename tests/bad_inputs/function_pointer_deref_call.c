void kernel(int n, double A[100], double B[100], double (*f)(double))
{
  int i;
#pragma scop
  for (i = 0; i < n; i++)
    A[i] = (*f)(B[i]);
#pragma endscop
}
