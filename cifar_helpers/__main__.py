"""python -m cifar_helpers: see cli.py."""

import sys

from .machinery.cli import main

sys.exit(main())
