"""The engine compiled by mypyc (setup.py, CARESIM_COMPILE=1) reproduces the golden master bit for bit,
as the pure-Python engine does in test_golden_master.py."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,  # compiling takes about a minute
    pytest.mark.skipif(shutil.which("gcc") is None or importlib.util.find_spec("mypyc") is None,
                       reason="needs gcc and mypyc (pip install mypy)"),
]


def test_compiled_engine_reproduces_the_golden_master(tmp_path: Path):
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for name in ("setup.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    build = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp_path,
                           env={**os.environ, "CARESIM_COMPILE": "1"}, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "src"), str(ROOT / "tests")])}
    which = subprocess.run([sys.executable, "-c", "from caresim.engine import kernel; print(kernel.ENGINE_BUILD)"],
                           env=env, capture_output=True, text=True)
    assert which.stdout.strip() == "compiled (mypyc)", which.stdout + which.stderr
    names = ("test_golden_master.py", "test_simpy_contract.py")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            *(str(ROOT / "tests" / name) for name in names)],
                           env=env, cwd=tmp_path, capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout[-3000:]
