"""The folder an experiment writes to, and what makes it resumable.

Layout::

    STORE/experiment.json     the experiment's description and fingerprint (written first)
    STORE/units/pPPPPP-SSSSSSSSSSSSS.npz   one finished work unit (point P, paths from S)
    STORE/results.zarr        the labelled Dataset (written when every unit is done, replaced atomically)

Every file is written atomically (a temporary file in the same folder, then :func:`os.replace`;
units through :meth:`EnsembleResult.save`, which does the same), so a killed sweep leaves only
whole files: on restart the units on disk are done, the others run, and at most the units in
flight are lost (a save killed midway leaves a hidden ``.….tmp`` file, removed when the store is
opened again: one sweep at a time per store).  A unit file that does not load (it cannot be
truncated, but a disk can fail) is reported and run again.  A store holding another experiment
(another fingerprint) is refused.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from ..results import EnsembleResult
from .spec import Experiment, Unit

__all__ = ["Store", "write_text_atomic"]


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Store:
    """The folder of one experiment (created when missing)."""

    def __init__(self, path, experiment: Experiment):
        self.path = Path(os.fspath(path))
        self.experiment = experiment
        self.units_dir = self.path / "units"
        self.units_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.units_dir.glob(".*.tmp"):  # saves that a killed sweep left unfinished
            with contextlib.suppress(OSError):
                stale.unlink()
        header = self.path / "experiment.json"
        fp = experiment.fingerprint()
        if header.exists():
            old = json.loads(header.read_text()).get("fingerprint")
            if old != fp:
                raise ValueError(f"store {str(self.path)!r} holds another experiment (fingerprint {str(old)[:12]}…, "
                                 f"this one {fp[:12]}…): use another store, or delete that folder to start over")
        else:
            write_text_atomic(header, json.dumps({"fingerprint": fp, "experiment": experiment.describe()},
                                                 indent=1))

    @property
    def results_path(self) -> Path:
        return self.path / "results.zarr"

    def unit_path(self, unit: Unit) -> Path:
        return self.units_dir / f"{unit.name}.npz"

    def done(self, units) -> set:
        """The units whose files exist (cheap: no file is opened)."""
        return {u for u in units if self.unit_path(u).exists()}

    def save(self, unit: Unit, result: EnsembleResult) -> None:
        result.save(self.unit_path(unit))

    def load(self, unit: Unit) -> EnsembleResult | None:
        """The unit's result, or None (with a warning, and the file removed) when it does not load."""
        path = self.unit_path(unit)
        try:
            return EnsembleResult.load(path)
        except FileNotFoundError:
            return None
        except ValueError as exc:
            warnings.warn(f"unit file {str(path)!r} does not load ({exc}); it is removed and will run again",
                          RuntimeWarning, stacklevel=2)
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def write_dataset(self, ds) -> Path:
        """Write the Dataset as Zarr (format 2) and put it in place atomically (rename of a folder)."""
        target = self.results_path
        tmp = Path(tempfile.mkdtemp(prefix=".results.", suffix=".tmp", dir=self.path))
        try:
            ds.to_zarr(tmp / "r.zarr", mode="w", zarr_format=2, consolidated=True)
            old = None
            if target.exists():
                old = self.path / f".results.old.{os.getpid()}"
                os.replace(target, old)
            os.replace(tmp / "r.zarr", target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target
