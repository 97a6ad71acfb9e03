import sys

from .cli import validate_main

sys.exit(validate_main())
