"""The ``optdyn`` command (also ``python -m optdyn``).

``optdyn validate [--full] [--only thm1,...] [--seed N] [--backend NAME] [--out DIR]`` runs the
validation suite, prints a table, writes ``report.md``, ``results.json`` and figures, and exits
non-zero when a check fails (``python -m optdyn.validate`` is the same).  ``optdyn bench ...`` runs
the benchmarks; ``optdyn --version`` prints the version.
"""
from __future__ import annotations

import argparse
import sys
import time

__all__ = ["main", "validate_main", "bench_main"]


def _validate_parser(prog="optdyn validate") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Check optimizer theory against simulation.")
    p.add_argument("--full", action="store_true", help="larger ensembles and finer steps (slow)")
    p.add_argument("--only", default="", help="comma-separated result ids, e.g. thm1")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--backend", default="numba", help="simulation backend (numba, numpy, torch, ...)")
    p.add_argument("--out", default="validate-report", help="report folder (default ./validate-report)")
    p.add_argument("--list", action="store_true", help="list the result ids and exit")
    return p


def validate_main(argv=None, prog="optdyn validate") -> int:
    from .records import FAIL, FINDING, Settings
    from .suite import SUITES, format_table, run_suite, write_report

    args = _validate_parser(prog).parse_args(argv)
    if args.list:
        print("\n".join(SUITES))
        return 0
    if args.seed < 0:
        print("error: --seed must be >= 0", file=sys.stderr)
        return 2
    only = [s.strip() for s in args.only.split(",") if s.strip()] or None
    settings = Settings(full=args.full, seed=args.seed, backend=args.backend, out=args.out)
    print(f"optdyn validate: {'full' if args.full else 'quick'} suite, backend {args.backend}, seed {args.seed}")
    t0 = time.perf_counter()
    try:
        records = run_suite(only, settings)
    except (ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0
    print()
    print(format_table(records))
    report, js = write_report(records, settings, elapsed)
    n_fail = sum(r.verdict == FAIL for r in records)
    n_find = sum(r.verdict == FINDING for r in records)
    print(f"\n{len(records) - n_fail - n_find} passed, {n_fail} failed, {n_find} findings in {elapsed:.0f} s; "
          f"report: {report}, {js}")
    return 1 if n_fail else 0


def bench_main(argv=None) -> int:
    from optdyn.benchmarks import run_benchmarks

    return run_benchmarks(argv)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-V", "--version"):
        from .. import __version__

        print(f"optdyn {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: optdyn [--version] {validate,bench} [options]\n\n"
              "  validate   run the validation suite (see: optdyn validate --help)\n"
              "  bench      run the benchmarks (see: optdyn bench --help)")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "validate":
        return validate_main(rest, prog="optdyn validate")
    if cmd == "bench":
        return bench_main(rest)
    print(f"error: unknown command {cmd!r} (use validate or bench)", file=sys.stderr)
    return 2
