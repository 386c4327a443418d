"""argparse types shared by the command lines: bad numbers become one-line usage errors (exit 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(minimum: int, at_most: int | None = None) -> Callable[[str], int]:
    """A type for whole numbers of at least `minimum` (and at most `at_most`)."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"must be at most {at_most}, not {value}")
        return value

    return whole


def positive(text: str) -> float:
    """A type for numbers above 0 (seconds, rates, loads)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def probability(text: str) -> float:
    """A type for numbers from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value
