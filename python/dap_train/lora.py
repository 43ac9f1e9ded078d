"""LoRA, ours (peft is not required): W + (α/r)·B·A on the target linear modules, saved and loaded in PEFT's
layout (adapter_config.json, adapter_model.safetensors with base_model.model.<module>.lora_A.weight (r, in)
and .lora_B.weight (out, r)), exactly as src/engine/lora.ts writes and reads them. A starts as the engine's
Kaiming-uniform draw from mulberry32(seed) (bound 1/√in, drawn in the engine's (in, r) order), B at zero,
so the first step's policy is the base model. Targets follow PEFT's suffix rule over nn.Linear and GPT-2's
Conv1D; embeddings and lm_head are never adapted (as the engine). The adapters are parameters of the
adapted modules (`dap_lora_A`, `dap_lora_B`) so DDP/FSDP see them; a forward hook adds the update."""

import json
import math
import os
import re

import torch

from .order import Rng

EXCLUDED = re.compile(r"(^|\.)(wte|wpe|embed_tokens|lm_head)$")


def _is_conv1d(m) -> bool:
    return type(m).__name__ == "Conv1D" and hasattr(m, "nf")


def linear_modules(model) -> list:
    """Names of the modules LoRA may target: nn.Linear and Conv1D, not embeddings or the head."""
    return [n for n, m in model.named_modules() if (isinstance(m, torch.nn.Linear) or _is_conv1d(m)) and n and not EXCLUDED.search(n)]


def match_modules(model, targets: list) -> list:
    return [n for n in linear_modules(model) if any(n == t or n.endswith("." + t) for t in targets)]


def _dims(m):
    """(in, out) of a linear module."""
    return (m.weight.shape[0], m.weight.shape[1]) if _is_conv1d(m) else (m.weight.shape[1], m.weight.shape[0])


def _hook(m, inputs, output):
    x = inputs[0]
    delta = (x.to(m.dap_lora_A.dtype) @ m.dap_lora_A.t()) @ m.dap_lora_B.t()
    return output + (delta * m.dap_lora_scale).to(output.dtype)


def enable_lora(model, r: int, alpha: float, targets: list, seed: int) -> list:
    """Adds adapters (B = 0) to every targeted module, freezes everything else; returns the module names."""
    modules = match_modules(model, targets)
    if not modules:
        names = ", ".join(sorted({n.split(".")[-1] for n in linear_modules(model)}))
        raise ValueError(f"LoRA target_modules [{', '.join(targets)}] match no linear module of this {model.config.model_type} model (available: {names})")
    for p in model.parameters():
        p.requires_grad_(False)
    rand = Rng(seed)
    named = dict(model.named_modules())
    for name in modules:
        m = named[name]
        din, dout = _dims(m)
        bound = 1 / math.sqrt(din)
        vals = torch.tensor([(2 * rand.next() - 1) * bound for _ in range(din * r)], dtype=torch.float32)
        dev = m.weight.device
        m.dap_lora_A = torch.nn.Parameter(vals.view(din, r).t().contiguous().to(dev))  # (r, in)
        m.dap_lora_B = torch.nn.Parameter(torch.zeros(dout, r, device=dev))  # (out, r)
        m.dap_lora_scale = alpha / r
        m.dap_lora_handle = m.register_forward_hook(_hook)
    model.dap_lora = {"r": r, "alpha": alpha, "targetModules": list(targets), "modules": modules}
    return modules


def lora_modules(model) -> list:
    named = dict(model.named_modules())
    return [(n, named[n]) for n in getattr(model, "dap_lora", {}).get("modules", [])]


def lora_parameter_count(model) -> int:
    return sum(m.dap_lora_A.numel() + m.dap_lora_B.numel() for _, m in lora_modules(model))


def save_adapter(model, dest: str, base: str, state: dict = None) -> None:
    """adapter_config.json + adapter_model.safetensors (F32) into `dest` (an empty folder), from the model's
    adapters or from `state` (a full state dict by parameter name)."""
    from safetensors.torch import save_file

    s = model.dap_lora
    tensors = {}
    for name, m in lora_modules(model):
        key = f"base_model.model.{name}"
        a = state[f"{name}.dap_lora_A"] if state is not None else m.dap_lora_A
        b = state[f"{name}.dap_lora_B"] if state is not None else m.dap_lora_B
        tensors[f"{key}.lora_A.weight"] = a.detach().float().cpu().contiguous().clone()
        tensors[f"{key}.lora_B.weight"] = b.detach().float().cpu().contiguous().clone()
    os.makedirs(dest, exist_ok=True)
    save_file(tensors, os.path.join(dest, "adapter_model.safetensors"))
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base, "r": s["r"], "lora_alpha": s["alpha"],
        "lora_dropout": 0, "target_modules": s["targetModules"], "bias": "none", "fan_in_fan_out": model.config.model_type == "gpt2",
        "inference_mode": True, "init_lora_weights": True, "modules_to_save": None, "layers_to_transform": None, "layers_pattern": None,
        "rank_pattern": {}, "alpha_pattern": {}, "use_rslora": False, "use_dora": False, "revision": None,
    }
    with open(os.path.join(dest, "adapter_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def load_adapter(model, folder: str) -> None:
    """Enables LoRA from a PEFT adapter folder (ours or PEFT's) and loads its weights."""
    from safetensors import safe_open

    cfg_path = os.path.join(folder, "adapter_config.json")
    w_path = os.path.join(folder, "adapter_model.safetensors")
    if not os.path.exists(cfg_path):
        raise ValueError(f"{cfg_path}: missing file")
    if not os.path.exists(w_path):
        if os.path.exists(os.path.join(folder, "adapter_model.bin")):
            raise ValueError(f"{os.path.join(folder, 'adapter_model.bin')}: refusing to load a pickle adapter; save it with safe_serialization=True")
        raise ValueError(f"{w_path}: missing file")
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("peft_type") != "LORA":
        raise ValueError(f'{cfg_path}: peft_type "{cfg.get("peft_type")}" is not supported (LORA only)')
    targets = cfg.get("target_modules") or []
    targets = [targets] if isinstance(targets, str) else list(targets)
    enable_lora(model, int(cfg["r"]), float(cfg.get("lora_alpha", cfg["r"])), targets, 0)
    with safe_open(w_path, "pt") as f:
        keys = set(f.keys())
        for name, m in lora_modules(model):
            for suffix, p in (("lora_A", m.dap_lora_A), ("lora_B", m.dap_lora_B)):
                key = next((k for k in (f"base_model.model.{name}.{suffix}.weight", f"base_model.model.{name}.{suffix}.default.weight") if k in keys), None)
                if key is None:
                    raise ValueError(f'{w_path}: missing tensor "base_model.model.{name}.{suffix}.weight"')
                t = f.get_tensor(key)
                if tuple(t.shape) != tuple(p.shape):
                    raise ValueError(f'{w_path}: tensor "{key}" has shape {list(t.shape)}, expected {list(p.shape)}')
                with torch.no_grad():
                    p.copy_(t.to(p.dtype))


def merged_state(model, state: dict) -> dict:
    """A full state dict with every adapter folded in (W + scale·B·A) and the adapter entries removed; the
    model itself is left as it is (works on state gathered from FSDP shards too)."""
    out = {k: v for k, v in state.items() if ".dap_lora_" not in k}
    for name, m in lora_modules(model):
        delta = (state[f"{name}.dap_lora_B"].float() @ state[f"{name}.dap_lora_A"].float()) * m.dap_lora_scale  # (out, in)
        w = out[f"{name}.weight"]
        out[f"{name}.weight"] = (w.float() + (delta.t() if _is_conv1d(m) else delta)).to(w.dtype)
    return out


def merge_lora(model) -> list:
    """Folds W ← W + scale·(B·A) into every adapted module and removes the adapters."""
    merged = []
    with torch.no_grad():
        for name, m in lora_modules(model):
            delta = (m.dap_lora_B.float() @ m.dap_lora_A.float()) * m.dap_lora_scale  # (out, in)
            w = m.weight
            w.add_((delta.t() if _is_conv1d(m) else delta).to(w.dtype))
            merged.append(name)
    remove_lora(model)
    return merged


def remove_lora(model) -> None:
    for _, m in lora_modules(model):
        m.dap_lora_handle.remove()
        del m.dap_lora_A, m.dap_lora_B, m.dap_lora_scale, m.dap_lora_handle
    if hasattr(model, "dap_lora"):
        del model.dap_lora
