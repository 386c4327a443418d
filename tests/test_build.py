"""codegen.build: the shared build cache under concurrent use."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from codegen.build import compile_text

PROGRAM = '#include <stdio.h>\nint main(void) { printf("%d\\n", 6 * 7); return 0; }\n'


def test_threads_building_the_same_text_all_get_the_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two candidate schedules can generate identical code; a measuring search builds them at once.
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path))
    with ThreadPoolExecutor(4) as pool:
        binaries = list(pool.map(lambda _: compile_text(PROGRAM, name="same"), range(8)))
    assert len(set(binaries)) == 1
    assert subprocess.run([str(binaries[0])], capture_output=True, text=True).stdout == "42\n"
    assert not [p for p in (tmp_path / "build").iterdir() if p.name.startswith(".")]  # no temporaries left
