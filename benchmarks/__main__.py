"""`make bench`: run every benchmark and print its figures."""

from __future__ import annotations

import platform
import sys

from benchmarks import bench_app, bench_core, bench_import, bench_nlu, bench_scheduler


def main() -> int:
    print(f"machine: {platform.node()} · {platform.processor() or platform.machine()} · "
          f"{_cpu_count()} cores · Python {platform.python_version()}")
    only = {a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")}
    if not only or "import" in only:
        bench_import.main(sys.argv[1:])
    if not only or "nlu" in only:
        bench_nlu.main(sys.argv[1:])
    if not only or "core" in only:
        bench_core.main(sys.argv[1:])
    if not only or "app" in only:
        bench_app.main(sys.argv[1:])
    if not only or "scheduler" in only:
        bench_scheduler.main(sys.argv[1:])
    return 0


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
