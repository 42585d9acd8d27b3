"""`rasa` as the NLU server runs it: the same command line, without the libraries a server never uses,
and without transparent huge pages.

TensorFlow (which Rasa imports at start) tries `import jax` for its TFLite converter and goes on without
it when that fails; jax is installed as TensorFlow's dependency, and importing it costs the server ~70 MB
of resident memory for nothing this server does. So this entry point makes `import jax` fail in the
server process only, then runs Rasa's own command line (`python -m nlu.rasa_components.serve run ...`
is `rasa run ...`). Training runs `rasa` directly.

numpy and TensorFlow ask the kernel for transparent huge pages for their large arrays (madvise); each
2 MB page is resident as a whole even where a few KB of it are used. Measured on the development machine:
80 MB of the server's ~640 MB were such pages, and the figure moved by tens of MB from one start to the
next with how fragmented the machine's memory was. The server turns them off for itself
(prctl PR_SET_THP_DISABLE, Linux; nothing happens elsewhere): a parse touches small arrays, so it
loses nothing.
"""

from __future__ import annotations

import importlib.abc
import sys
from typing import Optional, Sequence

HIDDEN = ("jax", "jaxlib")


class _Hidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Optional[Sequence[str]] = None, target: object = None) -> None:
        if name.split(".")[0] in HIDDEN:
            raise ImportError(f"{name} is not loaded by the NLU server (nlu/rasa_components/serve.py)")
        return None


PR_SET_THP_DISABLE = 41  # linux/prctl.h


def _no_huge_pages() -> bool:
    """Turn transparent huge pages off for this process (and what it starts); False where not possible."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def main() -> None:
    _no_huge_pages()
    sys.meta_path.insert(0, _Hidden())
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
