"""``python -m optdyn ...`` is the ``optdyn`` command (``optdyn --help``)."""
import sys

from .validate.cli import main

sys.exit(main())
