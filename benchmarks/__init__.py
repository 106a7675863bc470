"""Speed and scale benchmarks of caresim against reference implementations: ``python -m benchmarks``."""
