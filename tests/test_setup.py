"""The one-command setup: both environments exist, a second run installs nothing, Python 3.10 is found."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_second_setup_has_nothing_to_do():
    done = subprocess.run(["make", "-q", "setup"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, "make setup would install again although nothing changed"


def test_the_nlu_environment_runs_rasa_3_6_on_python_3_10():
    rasa = ROOT / ".venv-rasa" / "bin" / "python"
    done = subprocess.run(
        [str(rasa), "-c", "import sys, rasa; print(sys.version_info[:2], rasa.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(3, 10) 3.6.21"


def test_python310_variable_pointing_elsewhere_is_refused_with_a_message():
    done = subprocess.run(
        [str(ROOT / "scripts" / "find-python310")],
        env={**os.environ, "PYTHON310": "/bin/false"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "PYTHON310=/bin/false is not a working Python 3.10 interpreter" in done.stderr


def test_without_any_python310_setup_stops_and_says_how_to_get_one(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("cat", "grep", "sort"):
        (tools / tool).symlink_to(shutil.which(tool))
    done = subprocess.run(
        ["/bin/bash", str(ROOT / "scripts" / "find-python310")],
        env={"PATH": str(tools), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Python 3.10 was not found" in done.stderr
    assert "pyenv install 3.10" in done.stderr
