"""Which machine a measurement was taken on: one name, used by data sets, the measurement cache and bench."""

from __future__ import annotations

import os
import platform
from functools import cache
from pathlib import Path


@cache
def cpu_model() -> str:
    """The CPU's model name as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_id() -> str:
    """CPU model and logical core count: times are only comparable on the same kind of machine.

    The format of the data sets' `machine` column (`Intel(R) Xeon(R) Processor x2`), which thousands
    of stored samples carry; `looper bench` keys its results by it too."""
    return f"{cpu_model()} x{os.cpu_count()}"
