"""codegen.build: the shared build cache under concurrent use."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from codegen.build import BuildError, compile_text, object_file

PROGRAM = '#include <stdio.h>\nint main(void) { printf("%d\\n", 6 * 7); return 0; }\n'


def test_threads_building_the_same_text_all_get_the_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two candidate schedules can generate identical code; a measuring search builds them at once.
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path))
    with ThreadPoolExecutor(4) as pool:
        binaries = list(pool.map(lambda _: compile_text(PROGRAM, name="same"), range(8)))
    assert len(set(binaries)) == 1
    assert subprocess.run([str(binaries[0])], capture_output=True, text=True).stdout == "42\n"
    assert not [p for p in (tmp_path / "build").iterdir() if p.name.startswith(".")]  # no temporaries left


def test_extra_sources_are_compiled_once_and_linked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every variant of a program links the same harness (polybench.c): it is built once, as an object.
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path))
    helper = tmp_path / "helper.c"
    helper.write_text("int helper(int x) { return 6 * x; }\n")
    main = "int helper(int);\n#include <stdio.h>\nint main(void) { printf(\"%d\\n\", helper(VALUE)); return 0; }\n"
    outputs = []
    for value in (7, 8):
        binary = compile_text(main.replace("VALUE", str(value)), name="main", extra_sources=[helper])
        outputs.append(subprocess.run([str(binary)], capture_output=True, text=True).stdout)
    assert outputs == ["42\n", "48\n"]
    assert len(list((tmp_path / "build").glob("helper-*.o"))) == 1
    linked = compile_text(main.replace("VALUE", "9"), name="main", extra_sources=[object_file(helper)])
    assert subprocess.run([str(linked)], capture_output=True, text=True).stdout == "54\n"  # an object is linked as is
    helper.write_text("int helper(int x) { return x; }\n")  # a changed harness is rebuilt
    binary = compile_text(main.replace("VALUE", "7"), name="main", extra_sources=[helper])
    assert subprocess.run([str(binary)], capture_output=True, text=True).stdout == "7\n"
    helper.write_text("int helper(int x) { return x }\n")
    with pytest.raises(BuildError, match="expected"):
        compile_text(main.replace("VALUE", "7"), name="main", extra_sources=[helper])
    assert not [p for p in (tmp_path / "build").iterdir() if p.name.startswith(".")]
