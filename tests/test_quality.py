"""Repository checks that CI runs with the tests: lint, format, docs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command, env=None):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)


@pytest.mark.parametrize("command", [("check", "."), ("format", "--check", ".")])
def test_ruff_is_clean(command):
    ruff = shutil.which("ruff") or pytest.fail("ruff is not installed: pip install -e '.[test]'")
    result = _run(ruff, *command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docs_build_without_warnings(tmp_path):
    # The build runs the gallery's examples. One torch thread keeps their time
    # predictable on a shared or small machine (2 threads under load took 15x longer).
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = _run(
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(tmp_path / "doctrees"),
        "docs",
        str(tmp_path / "html"),
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in readme
