"""``python -m benchmarks [--quick] [--markdown]``: see benchmarks/suite.py."""

from benchmarks.suite import main

main()
