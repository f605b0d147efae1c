#!/usr/bin/env bash
# Rerun every CPU benchmark whose JSON the README renders, then refresh the README's tables.
# Takes about 15-25 minutes on a quiet 2-core machine; run it with nothing else on the CPU.
#   bash scripts/run_benchmarks.sh            # all
#   REPEATS=5 bash scripts/run_benchmarks.sh  # fewer timed rounds for the model benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."
AGLU="${AGLU:-.venv/bin/aglu}"
PY="${PY:-.venv/bin/python}"
OUT=benchmarks/results
REPEATS="${REPEATS:-10}"

"$AGLU" bench activation --out "$OUT/activation.json"
"$AGLU" bench activation --shape 64,64,32,32 --shape 8,64,80,80 --repeats 15 \
    --out "$OUT/activation_conv.json"
"$AGLU" bench activation --shape 32,197,768 --channel-dim -1 --repeats 15 \
    --out "$OUT/activation_tokens.json"
"$AGLU" bench throughput --repeats "$REPEATS" --out "$OUT/throughput.json"
"$AGLU" bench latency --repeats "$((REPEATS * 2))" --out "$OUT/latency.json"
"$PY" scripts/update_readme.py activation activation_shapes throughput latency
