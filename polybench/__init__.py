"""PolyBench/C 4.2.1, written for looper: the 30 kernels, their sizes, and a harness to run and check them."""

from polybench.manifest import KERNELS, SIZES, Kernel, kernel

__all__ = ["KERNELS", "SIZES", "Kernel", "kernel"]
