"""Program families of the "use" scale, beyond the six patterns (filled in by the families work)."""

from __future__ import annotations

from collections.abc import Callable

from costmodel.generator.builder import Builder
from costmodel.generator.model import Node

FAMILIES: dict[str, tuple[int, Callable[[Builder, int], list[Node]], int]] = {}
