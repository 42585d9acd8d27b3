"""`rasa` as the NLU server runs it: the same command line, without the libraries a server never uses.

TensorFlow (which Rasa imports at start) tries `import jax` for its TFLite converter and goes on without
it when that fails; jax is installed as TensorFlow's dependency, and importing it costs the server ~70 MB
of resident memory for nothing this server does. So this entry point makes `import jax` fail in the
server process only, then runs Rasa's own command line (`python -m nlu.rasa_components.serve run ...`
is `rasa run ...`). Training runs `rasa` directly.
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


def main() -> None:
    sys.meta_path.insert(0, _Hidden())
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
