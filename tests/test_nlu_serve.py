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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("lean", [False, True])
def test_the_server_process_gives_freed_memory_back_after_a_large_buffer_was_freed(lean):
    script = (
        "import sys\n"
        "from nlu.rasa_components.serve import _lean_malloc\n"
        "def rss():\n"
        "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('RssAnon')) // 1024\n"
        f"ok = _lean_malloc() if {lean} else True\n"
        "big = bytearray(24 << 20); del big  # a large buffer of a model load, freed\n"
        "before = rss()\n"
        "blocks = [bytearray(1 << 20) for _ in range(64)]\n"
        "del blocks\n"
        "print(ok, rss() - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    ok, kept = done.stdout.split()
    assert ok == "True"
    if lean:
        assert int(kept) < 8  # the 64 MB of blocks went back to the system
    else:
        assert int(kept) >= 8  # glibc's defaults keep part of them: what the settings are for
