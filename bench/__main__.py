"""`python -m bench`: the whole-kiosk benchmark, as `kioskctl bench` runs it."""

import sys

from bench.cli import main

sys.exit(main())
