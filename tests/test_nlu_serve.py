"""The NLU server's entry point (nlu/rasa_components/serve.py) without starting Rasa."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_THP_DISABLE) is Linux's")
def test_the_server_process_turns_transparent_huge_pages_off_for_itself():
    script = (
        "from nlu.rasa_components.serve import _no_huge_pages\n"
        "def thp():\n"
        "    return next(l.split()[1] for l in open('/proc/self/status') if l.startswith('THP_enabled'))\n"
        "before = thp()\n"
        "print(before, _no_huge_pages(), thp())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    _, ok, after = done.stdout.split()  # before: 1, unless whoever runs the tests turned it off already
    assert (ok, after) == ("True", "0")

