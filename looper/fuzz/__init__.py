"""Differential fuzzing: random affine programs x random legal schedules (and every search mode),
built and run against the original, failures reduced to small reproducers (`looper fuzz`).

`cases` evaluates one case (worker side), `reduce` shrinks a failing case, `runner` drives workers
with time limits and keeps a resumable state, `command` is the command line.
"""
