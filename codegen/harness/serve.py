"""The worker's side: load a library of variants with cffi, run what the client asks, reply in JSON lines.

    python codegen/harness/serve.py      (started by codegen.harness.worker.Worker, never by hand)

Run as a file, it imports nothing of looper (a worker starts in a few milliseconds). The program's
stdout goes to /dev/null; the replies go to a copy of the original stdout.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import cffi

# What the worker calls through cffi: the runtime's entry points and the composed file's.
CDEF = """
int looper_init(void);
void looper_fini(void);
double looper_run(int variant);
int looper_count(void);
int looper_status(void);
long looper_flushed_lines(void);
long looper_flushes(void);
size_t looper_flush_bytes(void);
size_t looper_flush_zeros(void);
void looper_capture_begin(int fd);
void looper_capture_end(void);
"""


def _loaded(lib: Any | None) -> Any:
    """The loaded library; a request that runs code before any load is an error."""
    if lib is None:
        raise RuntimeError("no library loaded")
    return lib


def _serve() -> None:
    """The worker's loop: load, run, capture requests until stdin closes."""

    replies = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the program's printf must not write into the replies
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    lib = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "load":
                if lib is not None:  # the last library's runtime freed, then the library closed
                    lib.looper_fini()
                    ffi.dlclose(lib)
                    lib = None
                lib = ffi.dlopen(request["path"], ffi.RTLD_NOW | ffi.RTLD_LOCAL)
                lib.looper_init()
                reply = {"count": lib.looper_count()}
            elif request["op"] == "run":
                lib = _loaded(lib)
                seconds = lib.looper_run(request["variant"])
                reply = {"seconds": seconds, "status": lib.looper_status()}
            elif request["op"] == "state":  # what the runtime did so far (tests look at the flush)
                lib = _loaded(lib)
                reply = {"flush_bytes": lib.looper_flush_bytes(), "flush_zeros": lib.looper_flush_zeros(),
                         "flushes": lib.looper_flushes(), "flushed_lines": lib.looper_flushed_lines()}
            elif request["op"] == "capture":
                lib = _loaded(lib)
                fd = os.open(request["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                lib.looper_capture_begin(fd)
                try:
                    seconds = lib.looper_run(request["variant"])
                finally:
                    lib.looper_capture_end()
                    os.close(fd)
                reply = {"seconds": seconds, "status": lib.looper_status()}
            else:
                reply = {"error": f"unknown request {request['op']!r}"}
        except Exception as exc:  # an unreadable library, a bad request: said, and the worker goes on
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    _serve()
