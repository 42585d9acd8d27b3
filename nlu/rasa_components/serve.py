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


def sequential_graph_runner() -> None:
    """Run a parse's graph node after node in the process, instead of through dask.

    Rasa's DaskGraphRunner, for every parse, works out the nodes the targets need (recursively, from the
    schema), builds a dask graph of them, formats a debug line with the inputs' reprs (the tracker's too)
    whether or not debug logging is on, and has dask's local scheduler order and run them. The graph is
    fixed once the model is loaded, so the order is worked out once per set of targets here and the
    nodes are called in it with the same arguments dask would give them (each dependency's
    (name, output) pair, the inputs as (name, value)); the result is the same dict of outputs. Training
    (`rasa train`) is not affected: only the server process calls this.
    """
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    orders: dict = {}

    def order_of(runner: DaskGraphRunner, targets: tuple) -> list:
        found = orders.get((id(runner), targets))
        if found is None:
            nodes = runner._graph_schema.nodes
            found, seen = [], set()

            def visit(name: str) -> None:
                if name in seen or name not in nodes:  # not a node: an input placeholder
                    return
                seen.add(name)
                for dependency in nodes[name].needs.values():
                    visit(dependency)
                found.append((name, tuple(nodes[name].needs.values())))

            for target in targets:
                visit(target)
            orders[(id(runner), targets)] = found
        return found

    def run(self: DaskGraphRunner, inputs: Optional[dict] = None, targets: Optional[list] = None) -> dict:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        values = {name: (name, value) for name, value in (inputs or {}).items()}
        try:
            for name, needs in order_of(self, run_targets):
                values[name] = self._instantiated_nodes[name](*(values[need] for need in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] for target in run_targets)

    DaskGraphRunner.run = run


def domain_emptiness_once() -> None:
    """`Domain.is_empty()` builds an empty domain and both domains' dicts to compare them; Rasa's
    processor asks it after every parse (to warn of intents the domain lacks). The server's domain does
    not change once loaded, so the answer is kept on the domain after the first time."""
    from rasa.shared.core.domain import Domain

    computed = Domain.is_empty

    def is_empty(self: Domain) -> bool:
        known = self.__dict__.get("_dealerbot_is_empty")
        if known is None:
            known = self.__dict__["_dealerbot_is_empty"] = computed(self)
        return bool(known)

    Domain.is_empty = is_empty


def main() -> None:
    _no_huge_pages()
    sys.meta_path.insert(0, _Hidden())
    sequential_graph_runner()
    domain_emptiness_once()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
