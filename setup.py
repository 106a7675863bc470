"""Packaging beyond pyproject.toml: the engine's hot modules compiled by mypyc at ``pip install .``.

    pip install ".[test]"                       # compiled when a C compiler is present, else pure Python
    CARESIM_COMPILE=0 pip install ".[test]"     # pure Python on purpose
    pip install -e ".[test]"                    # editable: always pure Python, so edits take effect at once

The compiled modules are the same source, so results are bit for bit the same (tests/test_engine_builds.py).
Without a compiler, or if mypyc cannot build, the pure-Python package is installed; ``caresim run`` says
which engine it runs in its first line.
"""

import os
import shutil
import sys
import sysconfig

from setuptools import setup

# The modules every crisis runs through, and warm_start, which makes patients (a row handed to a compiled Patient
# from Python code would leak: docs/performance.md). Left pure Python: errors.py (builtin exception subclasses)
# and the numpy-bound or run-once modules (demand, record, streams).
COMPILED = ("acute", "ae", "arrivals", "calendar", "care_homes", "community", "counters", "discharge",
            "discharge_rhythm", "diversions", "effects", "front_door", "home_referrals", "kernel", "model", "network",
            "pathway", "patient", "services", "tally", "warm_start")


def _pure_because() -> str | None:
    """Why this build is pure Python, or None to compile."""
    if os.environ.get("CARESIM_COMPILE") == "0":
        return "CARESIM_COMPILE=0"
    if {"editable_wheel", "develop"} & set(sys.argv):
        return "an editable install runs its sources"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}) here"
    return None


def compiled_engine() -> list:
    if not {"bdist_wheel", "build_ext", "build", "install"} & set(sys.argv):
        return []  # pip asking for metadata or build requirements: nothing is built
    reason = _pure_because()
    if reason is None:
        try:
            from mypyc.build import mypycify

            modules = mypycify([f"src/caresim/engine/{name}.py" for name in COMPILED], opt_level="2")
        except (Exception, SystemExit) as error:  # mypyc exits on a type error
            reason = f"mypyc could not build it ({type(error).__name__}: {error})"
    if reason is not None:
        print(f"caresim: building the pure-Python engine: {reason}")
        return []
    return modules


setup(ext_modules=compiled_engine())
