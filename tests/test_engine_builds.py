"""Both builds of the engine reproduce the golden master bit for bit: this test runs the build that is not
installed. On the compiled engine (`pip install .`) it runs the pure-Python sources, the fallback, with the
tests that patch engine methods; on the pure-Python engine (an editable install) it compiles a scratch copy."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from caresim.engine.kernel import COMPILED

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ("test_golden_master.py", "test_simpy_contract.py")

pytestmark = pytest.mark.slow  # the golden master in a fresh process; compiling takes about a minute


def _run_tests(src: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT / "tests")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *args],
                          env=env, cwd=cwd, capture_output=True, text=True)


def _build(src: Path) -> str:
    which = subprocess.run([sys.executable, "-c", "from caresim.engine import kernel; print(kernel.ENGINE_BUILD)"],
                           env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True)
    return which.stdout.strip() + which.stderr


@pytest.mark.skipif(not COMPILED, reason="the pure-Python engine is installed: the compiled build is tested below")
def test_the_pure_python_sources_reproduce_the_golden_master():
    assert _build(ROOT / "src").startswith("pure Python")
    golden = _run_tests(ROOT / "src", ROOT, *(str(ROOT / "tests" / name) for name in GOLDEN))
    assert golden.returncode == 0, golden.stdout[-3000:]
    patching = _run_tests(ROOT / "src", ROOT, "-m", "pure_engine", str(ROOT / "tests"))
    assert patching.returncode == 0, patching.stdout[-3000:]
    assert " skipped" not in patching.stdout.splitlines()[-1], patching.stdout[-3000:]


@pytest.mark.skipif(COMPILED or shutil.which("gcc") is None or importlib.util.find_spec("mypyc") is None,
                    reason="the compiled engine is installed, or gcc or mypyc (pip install mypy) is missing")
def test_the_compiled_engine_reproduces_the_golden_master(tmp_path: Path):
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    build = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    assert _build(tmp_path / "src") == "compiled (mypyc)"
    tests = _run_tests(tmp_path / "src", tmp_path, *(str(ROOT / "tests" / name) for name in GOLDEN))
    assert tests.returncode == 0, tests.stdout[-3000:]
