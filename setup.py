"""Packaging beyond pyproject.toml: the engine's hot modules compiled by mypyc when asked.

    CARESIM_COMPILE=1 pip install --no-build-isolation ".[test]"   # compiled (needs gcc, Python headers, mypy)
    pip install ".[test]"                                          # pure Python, the default

The compiled modules are the same source, so results are bit for bit the same (tests/test_compiled_engine.py);
without mypyc or a compiler the pure-Python package is installed and ``caresim`` says so when it starts.
"""

import os

from setuptools import setup

# The modules every crisis runs through. Left pure Python: effects.py and tally.py (frozen generic and
# record dataclasses, a dict subclass), errors.py (builtin exception subclasses), and the numpy-bound ones.
COMPILED = ("acute", "ae", "arrivals", "calendar", "care_homes", "community", "discharge", "discharge_rhythm",
            "diversions", "front_door", "home_referrals", "kernel", "model", "network", "pathway", "patient",
            "services")


def compiled_engine() -> list:
    if os.environ.get("CARESIM_COMPILE") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("caresim: CARESIM_COMPILE=1 but mypyc is not installed here (install mypy, then pip install "
              "--no-build-isolation); building the pure-Python engine")
        return []
    return mypycify([f"src/caresim/engine/{name}.py" for name in COMPILED], opt_level="2")


setup(ext_modules=compiled_engine())
