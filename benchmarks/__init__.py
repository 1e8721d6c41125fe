"""`make bench`'s chat benchmark: one bounded load generator, the servers side by side, a report.

load.py      the load generator (both dialects; saturation, fixed load, connection storm)
servers.py   the setups: the raw websockets server, the tutorial consumer, the final chat; their databases
procstat.py  CPU and memory of the server processes, from /proc
run.py       the matrix of setups x scenarios x repeats (`python -m benchmarks --help`)
report.py    medians, ratios, results.json, results.md, the PNG charts (build/bench/)
"""
