"""`python -m aglu` runs the `aglu` command."""

import sys

from aglu.cli import main

sys.exit(main())
