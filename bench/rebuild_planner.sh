#!/usr/bin/env bash
# Rebuild the trained planner end to end: corpus -> adapter -> dev check -> shipped files -> evaluation
# (v2; the shots planner does not use the adapter, so a rebuild does not change its figures).
#
#   bash bench/rebuild_planner.sh            # ~80 min on 2 CPU cores; minutes on a GPU
#
# Needs the train extra (torch==2.13.0 is the CPU wheel these machines have) and ../shared/data beside the
# checkout.  Everything it writes goes to build/planner/.  The new adapter replaces the shipped one in
# models/adapters/smollm2-plan/ (adapter.gguf, peft/, manifest.json) only when it plans at least as many
# NL2Bash dev rows, bench dev cases and dev2 cases right as the shipped one: a short run must not undo a long one.
# SHIP=always ships it anyway, SHIP=never only evaluates it.  STEPS, MINUTES, LR, SEED and INIT tune the training.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=build/planner
SHIPPED=models/adapters/smollm2-plan
mkdir -p "$OUT"
.venv/bin/pip install -q -e '.[train]'
$PY -m models.training.corpus --out "$OUT/corpus.jsonl"
# INIT=path/to/adapter.gguf continues from an adapter (the shipped one came from seven such runs:
# 120 + 320 + 554 + 560 + 640 + 600 + 400 steps), e.g.  INIT=models/adapters/smollm2-plan/adapter.gguf LR=5e-4 STEPS=400 MINUTES=45 SEED=13
$PY -m models.training.train --corpus "$OUT/corpus.jsonl" --out "$OUT/adapter" \
    --steps "${STEPS:-420}" --first-layer 6 --minutes "${MINUTES:-85}" --lr "${LR:-1e-3}" --seed "${SEED:-7}" \
    ${INIT:+--init "$INIT"}

# The dev check: the new adapter against the shipped one, on rows no training or evaluation figure uses.
dev_score() {  # $1: adapter.gguf, $2: a name -> prints "nl2bash_dev_passed bench_dev_passed dev2_passed"
  NLSH_ADAPTER="$1" $PY bench/eval_nl2bash.py --split dev --per-family 8 --planners v2 \
      --json "$OUT/dev-$2.json" > "$OUT/dev-$2.txt"
  NLSH_ADAPTER="$1" $PY bench/bench_model.py accuracy --set dev --planners v2 > "$OUT/bench-dev-$2.txt"
  NLSH_ADAPTER="$1" $PY bench/bench_model.py accuracy --set dev2 --planners v2 > "$OUT/dev2-$2.txt"
  $PY - "$OUT/dev-$2-v2.json" "$OUT/bench-dev-$2.txt" "$OUT/dev2-$2.txt" <<'EOF'
import json, re, sys
nl2bash = json.load(open(sys.argv[1]))["summary"]["overall"]["pass"]
passed = [re.findall(r'"passed": (\d+)', open(f).read()) for f in sys.argv[2:]]
print(nl2bash, *(p[0] if p else 0 for p in passed))
EOF
}
read -r new_a new_b new_c < <(dev_score "$OUT/adapter/adapter.gguf" new)
read -r old_a old_b old_c < <(dev_score "$SHIPPED/adapter.gguf" shipped)
echo "dev check: new adapter NL2Bash dev $new_a, bench dev $new_b, dev2 $new_c; shipped $old_a, $old_b, $old_c" \
  | tee "$OUT/dev-check.txt"
ship="${SHIP:-auto}"
if [ "$ship" = auto ]; then
  if [ "$new_a" -ge "$old_a" ] && [ "$new_b" -ge "$old_b" ] && [ "$new_c" -ge "$old_c" ]; then
    ship=always
  else
    ship=never
  fi
fi
if [ "$ship" = always ]; then
  mkdir -p "$SHIPPED"
  cp "$OUT/adapter/adapter.gguf" "$OUT/adapter/manifest.json" "$OUT/adapter/train.log" "$SHIPPED/"
  rm -rf "$SHIPPED/peft" && cp -r "$OUT/adapter/peft" "$SHIPPED/peft"
  echo "shipped the new adapter to $SHIPPED" | tee -a "$OUT/dev-check.txt"
  EVAL_ADAPTER="$SHIPPED/adapter.gguf"
else
  echo "kept the shipped adapter; the new one is evaluated from $OUT/adapter" | tee -a "$OUT/dev-check.txt"
  EVAL_ADAPTER="$OUT/adapter/adapter.gguf"
fi

# The refusal threshold, chosen on dev rows with no threshold at all (models/planner_v2.py
# DEFAULT_MIN_CONFIDENCE holds the one in use; change it there when this one differs).
NLSH_ADAPTER="$EVAL_ADAPTER" $PY bench/eval_nl2bash.py --split dev --per-family 8 --planners v2 --min-confidence 0 \
    --json "$OUT/dev0.json" > "$OUT/dev0.txt"
$PY bench/threshold.py "$OUT/dev0-v2.json" | tee "$OUT/threshold.txt"

# The figures (test rows and the held-out sets) for the adapter just trained.
export NLSH_ADAPTER="$EVAL_ADAPTER"
$PY bench/eval_nl2bash.py --per-family 8 --planners v2 --json "$OUT/nl2bash.json" | tee "$OUT/nl2bash.txt"
$PY bench/cases_system.py --planners v2 --json "$OUT/system.json" | tee "$OUT/system.txt"
$PY bench/bench_model.py accuracy --set everyday --planners v2 | tee "$OUT/everyday.txt"
$PY bench/bench_model.py accuracy --set daily --planners v2 | tee "$OUT/daily.txt"
$PY bench/bench_planner.py | tee "$OUT/latency.json"
