"""optdyn's benchmarks.  Each module ``bench_*`` has ``main(argv=None)`` and prints its numbers as
ratios against a baseline measured in the same run (machines are shared and noisy).

``optdyn bench [--quick] [NAME ...]`` runs them (all by default); ``python -m benchmarks.bench_sde``
runs one.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil

__all__ = ["available", "run_benchmarks"]


def available() -> list[str]:
    """Names of the benchmark modules (without the ``bench_`` prefix)."""
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules(__path__)
                  if m.name.startswith("bench_"))


def run_benchmarks(argv=None) -> int:
    p = argparse.ArgumentParser(prog="optdyn bench", description="Run optdyn's benchmarks.")
    p.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {', '.join(available())}")
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = p.parse_args(argv)
    names = args.names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        p.error(f"unknown benchmark(s) {unknown}; available: {', '.join(available())}")
    status = 0
    for name in names:
        print(f"== benchmark {name} ==")
        mod = importlib.import_module(f"{__package__}.bench_{name}")
        status |= int(mod.main(["--quick"] if args.quick else []) or 0)
    return status
