"""The ``optdyn`` command (also ``python -m optdyn``).

``optdyn validate [--full] [--only thm1,...] [--check NAME,...] [--seed N] [--backend NAME] [--out DIR]``
runs the validation suite, prints a table, writes ``report.md``, ``results.json`` and figures, and exits
1 when a check fails (``python -m optdyn.validate`` is the same); ``--list`` prints one line per result
and per check.  The arguments are checked before anything runs: a bad ``--only``/``--check``, an
unknown ``--backend``, or an ``--out`` that is a file or cannot be written exit with code 2.  ``optdyn bench ...`` runs
the benchmarks; ``optdyn run EXPERIMENT.toml [--store DIR] [--client local|serial|ADDRESS] [--workers N]
[--n-paths N] [--no-progress]`` runs a sweep (:mod:`optdyn.sim.experiments`), resuming it when the store holds
finished units; ``optdyn --version`` prints the version.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

__all__ = ["main", "validate_main", "bench_main", "run_main"]


def _validate_parser(prog="optdyn validate") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Check optimizer theory against simulation.")
    p.add_argument("--full", action="store_true", help="larger ensembles and finer steps (slow)")
    p.add_argument("--only", default="", help="comma-separated result ids, e.g. thm3 (every check about it)")
    p.add_argument("--check", default="", help="comma-separated check names, e.g. thm1.closed-form (see --list)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--backend", default="numba", help="simulation backend (numba, numpy, torch, ...)")
    p.add_argument("--out", default="validate-report", help="report folder (default ./validate-report)")
    p.add_argument("--list", action="store_true", help="list the results and their checks, and exit")
    return p


def _check_out(out: str) -> str | None:
    """Why ``out`` cannot be the report folder, or None: it must be a folder (or creatable) and writable."""
    path = os.path.abspath(out)
    if os.path.exists(path) and not os.path.isdir(path):
        return f"--out {out!r} exists and is not a folder"
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        return f"--out {out!r}: {probe!r} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"--out {out!r}: {probe!r} is not writable"
    return None


def _check_backend(name: str) -> str | None:
    from optdyn import sim

    try:
        sim.get_backend(name)
    except (ValueError, TypeError, ImportError, RuntimeError) as exc:  # RuntimeError: no such device here
        return f"--backend {name!r}: {exc} (available: {', '.join(sim.available_backends())})"
    return None


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def validate_main(argv=None, prog="optdyn validate") -> int:
    from .records import FAIL, FINDING, Settings
    from .suite import format_table, list_text, run_suite, select, write_report

    args = _validate_parser(prog).parse_args(argv)
    if args.list:
        print(list_text())
        return 0
    only, names = _split(args.only), _split(args.check)
    errors = []
    if args.seed < 0:
        errors.append("--seed must be >= 0")
    try:
        select(only, names)
    except ValueError as exc:
        errors.append(str(exc))
    for why in (_check_backend(args.backend), _check_out(args.out)):
        if why:
            errors.append(why)
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return 2
    settings = Settings(full=args.full, seed=args.seed, backend=args.backend, out=args.out)
    print(f"optdyn validate: {'full' if args.full else 'quick'} suite, backend {args.backend}, seed {args.seed}")
    t0 = time.perf_counter()
    records = run_suite(only, settings, names=names)
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


def run_main(argv=None) -> int:
    """``optdyn run``: an experiment file's sweep; options override its ``[run]`` table."""
    p = argparse.ArgumentParser(prog="optdyn run", description="Run a sweep described by an experiment file "
                                "(TOML: [experiment], [problem], [grid], optional [run]).")
    p.add_argument("file", help="experiment file (.toml)")
    p.add_argument("--store", help="folder of the units and results.zarr (default: [run] store, else "
                   "FILE's name with .store, in the current folder); rerun to resume")
    p.add_argument("--client", help="'local' (a Dask cluster on this machine, default), 'serial' (this "
                   "process) or a Dask scheduler address tcp://host:port")
    p.add_argument("--workers", type=int, help="worker processes of the local cluster (default: cores)")
    p.add_argument("--n-paths", type=int, help="paths per grid point, instead of the file's (e.g. a quick try)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    from optdyn.sim.experiments import Experiment, read_toml

    try:
        config = read_toml(args.file)
        run = dict(config.get("run", {}))
        bad = set(run) - {"store", "client", "workers"}
        if bad:
            raise ValueError(f"[run]: unknown keys {sorted(bad)} (allowed: store, client, workers)")
        if args.n_paths is not None:
            config.setdefault("experiment", {})["n_paths"] = args.n_paths
        exp = Experiment.from_dict(config)
        exp.problems()
    except (OSError, ValueError, TypeError) as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a TOML syntax error
        print(f"error: {args.file}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    store = args.store or run.get("store") or os.path.splitext(os.path.basename(args.file))[0] + ".store"
    client = args.client or run.get("client", "local")
    workers = args.workers or run.get("workers")
    print(f"optdyn run: {exp.name}: {len(exp.points())} points x {exp.n_paths} paths "
          f"({len(exp.units())} units), client {client}, store {store}")
    ds = exp.run(store, client=client, n_workers=workers, progress=False if args.no_progress else None)
    print(ds)
    if ds.attrs.get("partial"):
        print("partial result (interrupted); run the same command again to resume", file=sys.stderr)
        return 130
    print(f"written: {os.path.join(store, 'results.zarr')}  (xarray.open_zarr)")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-V", "--version"):
        from .. import __version__

        print(f"optdyn {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: optdyn [--version] {validate,bench,run} [options]\n\n"
              "  validate   run the validation suite (see: optdyn validate --help)\n"
              "  bench      run the benchmarks (see: optdyn bench --help)\n"
              "  run        run a sweep from an experiment file (see: optdyn run --help)")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "validate":
        return validate_main(rest, prog="optdyn validate")
    if cmd == "bench":
        return bench_main(rest)
    if cmd == "run":
        return run_main(rest)
    print(f"error: unknown command {cmd!r} (use validate, bench or run)", file=sys.stderr)
    return 2
