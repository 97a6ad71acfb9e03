"""``python -m optdyn ...`` is the ``optdyn`` command (``optdyn --help``)."""
import sys

from .validate.cli import main

if __name__ == "__main__":  # not when a worker process re-imports the main module (Dask, multiprocessing)
    sys.exit(main())
