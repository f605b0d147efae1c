"""Benchmarks (activation, throughput, latency) and the long-tail study; run `aglu bench --help`."""
