"""Train the planner's LoRA adapter on the corpus and export it for llama.cpp (GGUF) and vLLM (PEFT).

    python -m models.training.train --corpus corpus.jsonl --out models/adapters/smollm2-plan \
        [--minutes 80] [--epochs 1] [--rank 8] [--alpha 16] [--lr 1e-3] [--batch-tokens 900]

Base weights are the bundled GGUF's, dequantised (``models.training.lora``); the loss is on the plan
tokens and the end-of-text token only; batches group examples of similar length; the seed fixes
everything.  Uses CUDA when present (bf16), else the CPU (bf16 autocast where the CPU has it).
A checkpoint of the adapter is written every ``--checkpoint-every`` steps and the run resumes from it;
``--minutes`` stops training in time to export.  The output folder gets ``adapter.gguf``,
``peft/`` and ``manifest.json`` (base model sha256, corpus sha256, training config, figures).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from models.training.lora import (
    LoraLlama,
    config_dict,
    load_gguf,
    read_gguf_adapter,
    write_gguf_adapter,
    write_peft_adapter,
)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def base_model_path(spec: str | None) -> Path:
    from models.profiles import resolve

    return resolve(spec).path()


class Tokenizer:
    """The GGUF's own tokenizer through llama.cpp (vocabulary only), tokenizing as the planner does."""

    def __init__(self, model: Path) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(str(model), vocab_only=True, verbose=False)
        self.eos = int(self.llm.token_eos())

    def prompt(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def plan(self, text: str) -> list[int]:
        return [*self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False), self.eos]


def load_corpus(path: Path, tok: Tokenizer, max_len: int) -> list[tuple[list[int], int]]:
    """(token ids, index of the first plan token) per example, dropping any longer than ``max_len``."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        ex = json.loads(line)
        p, q = tok.prompt(ex["prompt"]), tok.plan(ex["plan"])
        if len(p) + len(q) <= max_len:
            out.append((p + q, len(p)))
    return out


def batches(data: list[tuple[list[int], int]], batch_tokens: int, seed: int) -> list[list[int]]:
    """Indices grouped by length so padding is small; about ``batch_tokens`` padded tokens a batch."""
    order = sorted(range(len(data)), key=lambda i: (len(data[i][0]), i))
    out: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        longest = max([len(data[j][0]) for j in cur] + [len(data[i][0])])
        if cur and longest * (len(cur) + 1) > batch_tokens:
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    random.Random(seed).shuffle(out)
    return out


def collate(data: list[tuple[list[int], int]], idx: list[int], pad: int) -> tuple[torch.Tensor, ...]:
    n = max(len(data[i][0]) for i in idx)
    ids = torch.full((len(idx), n), pad, dtype=torch.long)
    target = torch.full((len(idx), n), -100, dtype=torch.long)
    lengths = torch.zeros(len(idx), dtype=torch.long)
    for r, i in enumerate(idx):
        seq, start = data[i]
        ids[r, : len(seq)] = torch.tensor(seq)
        # position t predicts token t+1: the targets are the plan tokens (and the end of text)
        target[r, start - 1: len(seq) - 1] = torch.tensor(seq[start:])
        lengths[r] = len(seq)
    return ids, target, lengths


def loss_of(model: LoraLlama, ids: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    h = model.hidden(ids, lengths)
    sel = target != -100
    logits = model.logits(h[sel]).float()  # the output projection only where there is a target
    return F.cross_entropy(logits, target[sel])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", default=None, help="base GGUF (default: the bundled SmolLM2)")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: epochs decide)")
    ap.add_argument("--minutes", type=float, default=0.0, help="stop training after this long (0: no limit)")
    ap.add_argument("--batch-tokens", type=int, default=900)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--checkpoint-every", type=int, default=50)
    ap.add_argument("--first-layer", type=int, default=0, help="LoRA only on blocks from this one up")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from this GGUF adapter (continued training, e.g. after new calls joined)")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(args.threads or max(1, len(os.sched_getaffinity(0))))
    cpuinfo = Path("/proc/cpuinfo")
    amp = device == "cuda" or (cpuinfo.exists() and "avx512_bf16" in cpuinfo.read_text(errors="replace"))
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "train.log").open("a", encoding="utf-8")

    def say(msg: str) -> None:
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    model_path = base_model_path(args.model)
    tok = Tokenizer(model_path)
    data = load_corpus(args.corpus, tok, args.max_len)
    cfg, weights = load_gguf(model_path)
    model = LoraLlama(cfg, weights, rank=args.rank, alpha=args.alpha, first_layer=args.first_layer).to(device)
    init: dict[str, Any] | None = None
    if args.init is not None:
        state0, alpha0 = read_gguf_adapter(args.init)
        if alpha0 != args.alpha:
            raise SystemExit(f"{args.init}: alpha {alpha0} differs from --alpha {args.alpha}")
        model.load_lora_state({k: v.to(device) for k, v in state0.items()})
        previous = args.init.with_name("manifest.json")
        init = {"adapter": str(args.init), "sha256": sha256(args.init),
                "manifest": json.loads(previous.read_text()) if previous.is_file() else None}
    params = model.lora_parameters()
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    plan = batches(data, args.batch_tokens, args.seed)
    total = int(args.steps or math.ceil(len(plan) * args.epochs))
    warm = min(30, max(1, total // 20))

    def lr_at(step: int) -> float:
        peak = float(args.lr)
        if step < warm:
            return peak * (step + 1) / warm
        return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

    ckpt = args.out / "checkpoint.pt"
    step, tokens, seconds = 0, 0, 0.0
    if ckpt.exists():
        state: dict[str, Any] = torch.load(ckpt, map_location=device)
        model.load_lora_state(state["lora"])
        opt.load_state_dict(state["opt"])
        step, tokens, seconds = state["step"], state["tokens"], state["seconds"]
        say(f"resumed at step {step}")
    n_plan = sum(len(s) - st for s, st in data)
    say(f"{len(data)} examples, {sum(len(s) for s, _ in data)} tokens ({n_plan} plan tokens), {len(plan)} batches"
        f"/epoch, {total} steps, device {device}, bf16 {amp}, trainable {sum(p.numel() for p in params)}")
    t_start = time.perf_counter() - seconds
    ema: float | None = None
    stopped = "steps"
    model.train()
    while step < total:
        idx = plan[step % len(plan)]
        ids, target, lengths = (t.to(device) for t in collate(data, idx, tok.eos))
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        t0 = time.perf_counter()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=amp):
            loss = loss_of(model, ids, target, lengths)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        step += 1
        tokens += int(lengths.sum())
        value = float(loss.detach())
        ema = value if ema is None else 0.95 * ema + 0.05 * value
        if step % 10 == 0 or step == total:
            el = time.perf_counter() - t_start
            say(f"step {step}/{total} loss {value:.4f} ema {ema:.4f} lr {lr_at(step):.2e} "
                f"{int(lengths.sum()) / dt:.0f} tok/s (avg {tokens / el:.0f}) elapsed {el / 60:.1f} min")
        if step % args.checkpoint_every == 0 or step == total:
            torch.save({"lora": model.lora_state(), "opt": opt.state_dict(), "step": step, "tokens": tokens,
                        "seconds": time.perf_counter() - t_start}, ckpt)
        if args.minutes and step < total and time.perf_counter() - t_start > args.minutes * 60:
            stopped = "time"
            break
    elapsed = time.perf_counter() - t_start
    lora = {k: v.cpu() for k, v in model.lora_state().items()}
    torch.save({"lora": lora, "opt": opt.state_dict(), "step": step, "tokens": tokens, "seconds": elapsed}, ckpt)
    adapter = args.out / "adapter.gguf"
    write_gguf_adapter(adapter, lora, alpha=args.alpha, name="nlshell-planner")
    write_peft_adapter(args.out / "peft", lora, cfg, rank=args.rank, alpha=args.alpha,
                       base_model="HuggingFaceTB/SmolLM2-135M-Instruct")
    training = {"steps": step, "planned_steps": total, "stopped_by": stopped, "tokens": tokens,
                "seconds": round(elapsed, 1), "tokens_per_s": round(tokens / max(elapsed, 1e-9), 1),
                "final_loss_ema": ema, "device": device, "torch": torch.__version__,
                "threads": torch.get_num_threads()}
    manifest = {
        "adapter": "adapter.gguf",
        "adapter_sha256": sha256(adapter),
        "base_model": model_path.name,
        "base_model_sha256": sha256(model_path),
        "corpus_sha256": sha256(args.corpus),
        "corpus_examples": len(data),
        "config": {"rank": args.rank, "alpha": args.alpha, "lr": args.lr, "epochs": args.epochs,
                   "batch_tokens": args.batch_tokens, "max_len": args.max_len, "seed": args.seed,
                   "first_layer": args.first_layer, "targets": list(model.targets), "bf16": amp,
                   "model": config_dict(cfg)},
        "training": training,
        "continued_from": init,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    say(f"done: {step} steps in {elapsed / 60:.1f} min, {training['tokens_per_s']} tok/s; "
        f"wrote {adapter}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
