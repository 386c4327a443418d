"""Random affine C programs in PolyBench style, for training the cost model and for differential fuzzing."""

from costmodel.generator.program import GeneratedProgram, generate, programs, write_program
from costmodel.generator.sizes import SCALES

__all__ = ["SCALES", "GeneratedProgram", "generate", "programs", "write_program"]
