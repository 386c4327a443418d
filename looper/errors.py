"""The base of looper's errors, and what each kind means as a command's exit code (one place)."""

from __future__ import annotations

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


class LooperError(Exception):
    """An error looper reports in one line. `exit_code`: 2 for bad input or usage (the user can fix it),
    1 for looper's own failure (a wrong output found by --verify, an internal inconsistency)."""

    exit_code = EXIT_INTERNAL


class InputError(LooperError, ValueError):
    """Bad input from the user (an unreadable file, a malformed schedule file, a program without main()...)."""

    exit_code = EXIT_INPUT
