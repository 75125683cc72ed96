#!/usr/bin/env bash
# Rebuild the trained planner end to end: corpus -> adapter -> shipped files -> evaluation (v1 and v2 in one run).
#
#   bash bench/rebuild_planner.sh            # ~80 min on 2 CPU cores; minutes on a GPU
#
# Needs the train extra (torch==2.13.0 is the CPU wheel these machines have) and ../shared/data beside the
# checkout.  Everything it writes goes to build/planner/ except the adapter it ships into
# models/adapters/smollm2-plan/ (adapter.gguf, peft/, manifest.json).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=build/planner
mkdir -p "$OUT"
.venv/bin/pip install -q -e '.[train]'
$PY -m models.training.corpus --out "$OUT/corpus.jsonl"
# INIT=path/to/adapter.gguf continues from an adapter (the shipped one came from three such runs:
# 120 + 320 + 554 steps), e.g.  INIT=models/adapters/smollm2-plan/adapter.gguf LR=5e-4 STEPS=650 MINUTES=72
$PY -m models.training.train --corpus "$OUT/corpus.jsonl" --out "$OUT/adapter" \
    --steps "${STEPS:-420}" --first-layer 6 --minutes "${MINUTES:-85}" --lr "${LR:-1e-3}" \
    ${INIT:+--init "$INIT"}
SHIP=models/adapters/smollm2-plan
mkdir -p "$SHIP"
cp "$OUT/adapter/adapter.gguf" "$OUT/adapter/manifest.json" "$OUT/adapter/train.log" "$SHIP/"
rm -rf "$SHIP/peft" && cp -r "$OUT/adapter/peft" "$SHIP/peft"
$PY bench/eval_nl2bash.py --per-family 8 --planners v1,v2 --json "$OUT/nl2bash.json" | tee "$OUT/nl2bash.txt"
$PY bench/cases_system.py --planners v1,v2 --json "$OUT/system.json" | tee "$OUT/system.txt"
$PY bench/bench_model.py accuracy --set everyday --planners v1,v2 | tee "$OUT/everyday.txt"
$PY bench/bench_planner.py | tee "$OUT/latency.json"
