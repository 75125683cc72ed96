"""A LoRA-adapted Llama in PyTorch, loaded from a GGUF file, and the adapter's two export forms.

The base weights come straight from the bundled GGUF (``gguf`` dequantises
Q4_1 and friends to float32).  Training happens in the GGUF layout: llama.cpp's
converter permutes the rows of q and k so that RoPE rotates neighbouring pairs
(``LLAMA_ROPE_TYPE_NORM``), so this model applies RoPE to neighbouring pairs
too, and the adapter's tensors are already in the order llama.cpp wants.  Only
the PEFT export (for vLLM / transformers) permutes q and k rows of ``B`` back to
the Hugging Face order.

Needs the ``train`` extra (``torch``, ``gguf``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# GGUF tensor name per block → the Hugging Face module it is
HF_NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
            "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
            "ffn_down": "mlp.down_proj"}
TARGETS = tuple(HF_NAMES)


@dataclass
class Config:
    n_layer: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    rope_base: float
    eps: float
    vocab: int

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def _field(reader: Any, key: str) -> Any:
    f = reader.fields[key]
    return f.parts[f.data[0]].tolist()[0] if len(f.data) == 1 else [f.parts[i].tolist()[0] for i in f.data]


def load_gguf(path: Path) -> tuple[Config, dict[str, torch.Tensor]]:
    """The model's config and its weights as float32 tensors in ``[out, in]`` order, by GGUF name."""
    from gguf import GGUFReader
    from gguf.quants import dequantize

    reader = GGUFReader(str(path))
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    if arch != "llama":
        raise ValueError(f"{path}: training supports llama-architecture models, not {arch!r}")
    weights: dict[str, torch.Tensor] = {}
    for t in reader.tensors:
        arr = dequantize(t.data, t.tensor_type).astype(np.float32)
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        weights[t.name] = torch.from_numpy(arr.reshape(shape).copy())
    cfg = Config(
        n_layer=int(_field(reader, "llama.block_count")),
        n_embd=int(_field(reader, "llama.embedding_length")),
        n_ff=int(_field(reader, "llama.feed_forward_length")),
        n_head=int(_field(reader, "llama.attention.head_count")),
        n_head_kv=int(_field(reader, "llama.attention.head_count_kv")),
        rope_base=float(_field(reader, "llama.rope.freq_base")) if "llama.rope.freq_base" in reader.fields
        else 10000.0,
        eps=float(_field(reader, "llama.attention.layer_norm_rms_epsilon")),
        vocab=int(weights["token_embd.weight"].shape[0]),
    )
    return cfg, weights


class LoRALinear(nn.Module):
    """A frozen ``[out, in]`` weight plus ``scale · B·A``; A is r×in, B is out×r (PEFT shapes)."""

    def __init__(self, weight: torch.Tensor, rank: int, alpha: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        out_f, in_f = weight.shape
        self.rank = rank
        self.scale = alpha / rank if rank else 0.0
        if rank:
            self.lora_a = nn.Parameter(torch.empty(rank, in_f))
            self.lora_b = nn.Parameter(torch.zeros(out_f, rank))
            nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight)
        if self.rank:
            y = y + F.linear(F.linear(x, self.lora_a), self.lora_b) * self.scale
        return y


def _rms(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE over neighbouring pairs (x0,x1), (x2,x3)… — the GGUF row order of q and k."""
    x2 = x.reshape(*x.shape[:-1], -1, 2)
    a, b = x2[..., 0], x2[..., 1]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg: Config, w: dict[str, torch.Tensor], i: int, rank: int, alpha: float,
                 targets: tuple[str, ...]) -> None:
        super().__init__()
        self.cfg = cfg
        p = f"blk.{i}."
        self.attn_norm = nn.Parameter(w[p + "attn_norm.weight"], requires_grad=False)
        self.ffn_norm = nn.Parameter(w[p + "ffn_norm.weight"], requires_grad=False)
        self.proj = nn.ModuleDict({
            name: LoRALinear(w[p + name + ".weight"], rank if name in targets else 0, alpha) for name in TARGETS
        })

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        cfg, pr = self.cfg, self.proj
        bsz, n, _ = x.shape
        h = _rms(x, self.attn_norm, cfg.eps)
        q = pr["attn_q"](h).view(bsz, n, cfg.n_head, cfg.head_dim).transpose(1, 2)
        k = pr["attn_k"](h).view(bsz, n, cfg.n_head_kv, cfg.head_dim).transpose(1, 2)
        v = pr["attn_v"](h).view(bsz, n, cfg.n_head_kv, cfg.head_dim).transpose(1, 2)
        q, k = _rope(q, cos, sin), _rope(k, cos, sin)
        rep = cfg.n_head // cfg.n_head_kv
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + pr["attn_output"](a.transpose(1, 2).reshape(bsz, n, cfg.n_embd))
        h = _rms(x, self.ffn_norm, cfg.eps)
        out: torch.Tensor = x + pr["ffn_down"](F.silu(pr["ffn_gate"](h)) * pr["ffn_up"](h))
        return out


class LoraLlama(nn.Module):
    def __init__(self, cfg: Config, w: dict[str, torch.Tensor], *, rank: int = 16, alpha: float = 32.0,
                 targets: tuple[str, ...] = TARGETS, first_layer: int = 0) -> None:
        super().__init__()
        self.cfg, self.rank, self.alpha, self.targets = cfg, rank, alpha, targets
        self.embed = nn.Parameter(w["token_embd.weight"], requires_grad=False)
        self.norm = nn.Parameter(w["output_norm.weight"], requires_grad=False)
        self.head = nn.Parameter(w["output.weight"], requires_grad=False) if "output.weight" in w else None
        self.blocks = nn.ModuleList(
            Block(cfg, w, i, rank if i >= first_layer else 0, alpha, targets) for i in range(cfg.n_layer))
        inv = 1.0 / (cfg.rope_base ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.float32) / cfg.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def hidden(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Final hidden states ``[B, N, d]`` of right-padded ``ids`` (positions past a row's length are
        masked out of attention)."""
        n = ids.shape[1]
        pos = torch.arange(n, dtype=torch.float32)
        ang = pos[:, None] * self.inv_freq[None, :]  # type: ignore[index]
        cos, sin = ang.cos(), ang.sin()
        mask = torch.ones(n, n, dtype=torch.bool).tril()
        if lengths is not None:
            valid = torch.arange(n)[None, :] < lengths[:, None]
            mask = mask[None, None] & valid[:, None, None, :]
        x = F.embedding(ids, self.embed)
        for blk in self.blocks:
            x = blk(x, cos, sin, mask)
        return _rms(x, self.norm, self.cfg.eps)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = F.linear(h, self.head if self.head is not None else self.embed)
        return out

    def linears(self) -> Iterator[tuple[str, LoRALinear]]:
        """(GGUF weight name, its adapted linear layer) for every adapted projection."""
        for i, blk in enumerate(self.blocks):
            assert isinstance(blk, Block)
            for name, lin in blk.proj.items():
                assert isinstance(lin, LoRALinear)
                if lin.rank:
                    yield f"blk.{i}.{name}.weight", lin

    def lora_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if n.endswith(("lora_a", "lora_b"))]

    def lora_state(self) -> dict[str, torch.Tensor]:
        """``blk.N.<proj>.weight.lora_a|b`` → tensor, the GGUF adapter's names."""
        out: dict[str, torch.Tensor] = {}
        for key, lin in self.linears():
            out[key + ".lora_a"] = lin.lora_a.detach().clone()
            out[key + ".lora_b"] = lin.lora_b.detach().clone()
        return out

    def load_lora_state(self, state: dict[str, torch.Tensor]) -> None:
        for key, lin in self.linears():
            if key + ".lora_a" in state:
                lin.lora_a.data.copy_(state[key + ".lora_a"])
                lin.lora_b.data.copy_(state[key + ".lora_b"])


def write_gguf_adapter(path: Path, state: dict[str, torch.Tensor], *, alpha: float, name: str) -> None:
    """The adapter as llama.cpp loads it (``Llama(lora_path=…)``, ``llama-server --lora``), in f16."""
    from gguf import GGUFWriter

    w = GGUFWriter(str(path), "llama")
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_name(name)
    w.add_float32("adapter.lora.alpha", float(alpha))
    for key in sorted(state):
        w.add_tensor(key, state[key].to(torch.float16).numpy())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_gguf_adapter(path: Path) -> tuple[dict[str, torch.Tensor], float]:
    """The tensors and alpha of a GGUF LoRA adapter (float32), as ``write_gguf_adapter`` wrote them."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    alpha = float(_field(reader, "adapter.lora.alpha"))
    state = {}
    for t in reader.tensors:
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        state[t.name] = torch.from_numpy(np.asarray(t.data).astype(np.float32).reshape(shape).copy())
    return state, alpha


def greedy(model: LoraLlama, ids: list[int], eos: int, max_tokens: int = 64) -> list[int]:
    """Greedy decoding without a cache (a check, not a server): the tokens after ``ids`` up to ``eos``."""
    out: list[int] = []
    with torch.no_grad():
        for _ in range(max_tokens):
            h = model.hidden(torch.tensor([ids + out]))
            tok = int(model.logits(h[0, -1]).argmax())
            if tok == eos:
                break
            out.append(tok)
    return out


def _unpermute(b: torch.Tensor, n_head: int) -> torch.Tensor:
    """Rows of a q/k ``B`` from the GGUF order back to the Hugging Face order (inverse of llama.cpp's
    converter permutation ``reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2)``)."""
    rows, cols = b.shape
    return b.reshape(n_head, rows // n_head // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def write_peft_adapter(out_dir: Path, state: dict[str, torch.Tensor], cfg: Config, *, rank: int, alpha: float,
                       base_model: str) -> None:
    """The same adapter in PEFT's layout (``adapter_config.json`` + ``adapter_model.safetensors``), for vLLM."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    modules: set[str] = set()
    for key, t in state.items():
        _, i, proj, _, ab = key.split(".")
        hf = HF_NAMES[proj]
        modules.add(hf.split(".")[1])
        if ab == "lora_b" and proj in ("attn_q", "attn_k"):
            t = _unpermute(t, cfg.n_head if proj == "attn_q" else cfg.n_head_kv)
        tensors[f"base_model.model.model.layers.{i}.{hf}.lora_{ab[-1].upper()}.weight"] = \
            t.to(torch.float16).contiguous()
    save_file(tensors, str(out_dir / "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base_model, "r": rank,
              "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none", "target_modules": sorted(modules),
              "fan_in_fan_out": False, "inference_mode": True}
    (out_dir / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")


def config_dict(cfg: Config) -> dict[str, Any]:
    return asdict(cfg)
