"""`python -m aglu.bench NAME ...` runs `aglu bench NAME ...`."""

import logging
import sys

from aglu.bench.commands import bench_main

logging.basicConfig(level=logging.INFO, format="%(message)s")
sys.exit(bench_main(sys.argv[1:]))
