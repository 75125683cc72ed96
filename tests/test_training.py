"""The training pipeline stays alive (a few steps on a few pairs, then llama.cpp loads the adapter), and the
shipped adapter is what its manifest says, changes the model, and agrees with the PyTorch model it came from.

These need the ``train`` extra (torch, gguf) and the real bundled model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gguf")
llama_cpp = pytest.importorskip("llama_cpp")

from models import plantext as PT  # noqa: E402
from models.profiles import PLANNER_ADAPTER, resolve  # noqa: E402
from models.training import lora as L  # noqa: E402
from models.training import train as T  # noqa: E402

pytestmark = [pytest.mark.model, pytest.mark.slow]
SHIPPED = PLANNER_ADAPTER.parent
PROMPTS = ["find all python files in src", "how much memory is left?", "delete old.log",
           "show the last 20 lines of app.log", "kill process 4242", "make run.sh executable",
           "reboot the computer", "copy notes.txt to backup.txt"]


def _greedy_llama(path: Path, adapter: Path | None, prompt: str) -> str:
    kw = {"lora_path": str(adapter)} if adapter is not None else {}
    llm = llama_cpp.Llama(str(path), n_ctx=256, n_threads=2, verbose=False, **kw)
    try:
        out = llm.create_completion(PT.prompt(prompt), max_tokens=48, temperature=0.0, top_k=1)
        return str(out["choices"][0]["text"])
    finally:
        llm.close()


def test_a_few_training_steps_give_an_adapter_llama_cpp_loads(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    pairs = [("find all python files in src", 'fs.find path="src" name="*.py" type="file"'),
             ("how much memory is left?", "sys.memory"), ("delete old.log", 'fs.delete path="old.log"'),
             ("reboot the computer", "answer supported=false")] * 3
    corpus.write_text("".join(json.dumps({"prompt": PT.prompt(r), "plan": p, "source": "test"}) + "\n"
                              for r, p in pairs), encoding="utf-8")
    out = tmp_path / "adapter"
    assert T.main(["--corpus", str(corpus), "--out", str(out), "--steps", "3", "--batch-tokens", "200",
                   "--rank", "4", "--alpha", "8", "--first-layer", "26"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["steps"] == 3 and manifest["training"]["tokens"] > 0
    assert manifest["adapter_sha256"] == T.sha256(out / "adapter.gguf")
    assert manifest["base_model_sha256"] == T.sha256(resolve("smollm2").path())
    peft = json.loads((out / "peft" / "adapter_config.json").read_text())
    assert peft["r"] == 4 and peft["peft_type"] == "LORA"
    state, alpha = L.read_gguf_adapter(out / "adapter.gguf")
    assert alpha == 8.0 and set(state) == {f"blk.{i}.{p}.weight.lora_{ab}" for i in range(26, 30)
                                           for p in L.TARGETS for ab in "ab"}
    llm = llama_cpp.Llama(str(resolve("smollm2").path()), lora_path=str(out / "adapter.gguf"), n_ctx=128,
                          verbose=False)
    assert llm.create_completion("request: list files\nplan:\n", max_tokens=4, temperature=0.0)["choices"]
    llm.close()


needs_shipped = pytest.mark.skipif(not PLANNER_ADAPTER.is_file(), reason="no adapter shipped in models/adapters")


@needs_shipped
def test_shipped_adapter_matches_its_manifest() -> None:
    manifest = json.loads((SHIPPED / "manifest.json").read_text())
    assert manifest["adapter_sha256"] == T.sha256(PLANNER_ADAPTER)
    assert manifest["base_model_sha256"] == T.sha256(resolve("smollm2").path())
    assert (SHIPPED / "peft" / "adapter_model.safetensors").is_file()
    assert PLANNER_ADAPTER.stat().st_size < 16 * 2**20


@needs_shipped
def test_shipped_adapter_changes_the_model_into_a_planner() -> None:
    base = resolve("smollm2").path()
    prompt = "find all python files in src"
    without = _greedy_llama(base, None, prompt)
    with_adapter = _greedy_llama(base, PLANNER_ADAPTER, prompt)
    assert with_adapter != without
    assert with_adapter.startswith("fs.find")


@needs_shipped
def test_export_agrees_with_the_pytorch_model() -> None:
    """Greedy plans of the PyTorch model with the adapter's own tensors and of llama.cpp with the exported file
    agree (Q4_1 rounding may flip a rare token; a transposed or unpermuted tensor would flip most)."""
    base = resolve("smollm2").path()
    cfg, weights = L.load_gguf(base)
    state, alpha = L.read_gguf_adapter(PLANNER_ADAPTER)
    rank = next(v for k, v in state.items() if k.endswith("lora_a")).shape[0]
    model = L.LoraLlama(cfg, weights, rank=rank, alpha=alpha)
    model.load_lora_state(state)
    tok = T.Tokenizer(base)
    agree = 0
    llm = llama_cpp.Llama(str(base), lora_path=str(PLANNER_ADAPTER), n_ctx=256, n_threads=2, verbose=False)
    try:
        for prompt in PROMPTS:
            ours = tok.llm.detokenize(L.greedy(model, tok.prompt(PT.prompt(prompt)), tok.eos)).decode()
            theirs = llm.create_completion(PT.prompt(prompt), max_tokens=64, temperature=0.0,
                                           top_k=1)["choices"][0]["text"]
            agree += ours.strip() == str(theirs).strip()
    finally:
        llm.close()
    assert agree >= len(PROMPTS) - 2
