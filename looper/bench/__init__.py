"""`looper bench`: looper against gcc, Graphite and Polly on PolyBench, measured side by side.

`configs` names the compilers and flags compared, `store` keeps results in SQLite (resumable),
`runner` builds, verifies and times, `report` turns stored results into markdown, JSON and a plot,
and `command` is the command line.
"""
