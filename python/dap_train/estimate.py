"""`python -m dap_train estimate` (CONTRACT.md §7): the memory one training process needs — fp32 weights,
gradients and AdamW's two moments for the trainable parameters, a live reference copy, activations of one
micro-batch at the chosen length — checked against the device, with suggestions (LoRA, gradient
checkpointing, a smaller batch, bf16) and the estimate each gives when it does not fit. Parameters are
counted on the meta device from config.json (no weights are read). Activations follow Korthikanti et al.
(2022): per layer and token 34·d bytes at 16 bits plus 5·heads·T for attention scores (dropped with
gradient checkpointing, which keeps each layer's input only), plus the fp32 logits and their gradient."""

import json
import math
import os


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, help="Hugging Face model folder")
    p.add_argument("--method", default="dpo")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per step (does not change the memory)")
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--lora-r", type=int, default=0)
    p.add_argument("--lora-targets", default="")
    p.add_argument("--mixed-precision", default="auto", choices=["auto", "no", "bf16", "fp16"])
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--reference", default="precomputed", choices=["precomputed", "live"])
    p.add_argument("--num-processes", type=int, default=1)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--max-responses", type=int, default=4, help="responses per ranking (rrhf)")
    p.add_argument("--memory-bytes", type=int, help="check against this much memory instead of the device's")


SEQUENCES = {"pairs": 2, "unpaired": 2, "sft": 1}


def _meta_model(folder: str):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.from_pretrained(folder)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(cfg), cfg


def _device(kind: str) -> dict:
    import torch

    if kind in ("auto", "cuda") and torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        return {"type": "cuda", "name": p.name, "memoryBytes": int(p.total_memory)}
    avail = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
    except OSError:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"type": "cpu", "name": "cpu", "memoryBytes": avail}


def compute(model, cfg, a, lora_r: int, checkpointing: bool, batch: int, precision: str) -> dict:
    from .lora import _dims, match_modules

    named = dict(model.named_modules())
    params = sum(p.numel() for p in model.parameters())
    if lora_r > 0:
        targets = [t for t in a.lora_targets.split(",") if t] or (["c_attn"] if cfg.model_type == "gpt2" else ["q_proj", "v_proj"])
        trainable = sum(lora_r * sum(_dims(named[n])) for n in match_modules(model, targets))
    else:
        trainable = params
    from .losses import LOSSES

    kind = "pairs" if a.method == "spin" else LOSSES[a.method].data_kind if a.method in LOSSES else "pairs"
    needs_ref = a.method == "spin" or (a.method in LOSSES and LOSSES[a.method].needs_reference)
    seqs = math.ceil(batch / max(1, a.num_processes)) * SEQUENCES.get(kind, a.max_responses)
    d = getattr(cfg, "hidden_size", None) or cfg.n_embd
    layers = getattr(cfg, "num_hidden_layers", None) or cfg.n_layer
    heads = getattr(cfg, "num_attention_heads", None) or cfg.n_head
    vocab = cfg.vocab_size
    T = a.max_length
    half = 1 if precision in ("bf16", "fp16") else 2  # ×2 for fp32 activations
    per_layer = seqs * T * d * 34 * half + seqs * heads * T * T * 5 * half
    if checkpointing:
        act = layers * seqs * T * d * 2 * half + per_layer
    else:
        act = layers * per_layer
    act += seqs * T * vocab * 4 * 2  # fp32 logits + their gradient (cross-entropy)
    b = {"weights": params * 4, "gradients": trainable * 4, "optimizer": trainable * 8, "activations": int(act),
         "reference": params * 4 if needs_ref and a.reference == "live" else 0}
    b["total"] = sum(b.values())
    return {"params": params, "trainableParams": trainable, "sequencesPerMicroBatch": seqs, "bytes": b}


def estimate_main(a) -> int:
    from .parallel import resolve_precision

    model, cfg = _meta_model(a.model)
    dev = _device(a.device)
    if a.memory_bytes:
        dev["memoryBytes"] = a.memory_bytes
    precision = resolve_precision(a.mixed_precision, dev["type"])
    out = compute(model, cfg, a, a.lora_r, a.gradient_checkpointing, a.batch_size, precision)
    limit = dev["memoryBytes"]
    fits = limit is None or out["bytes"]["total"] <= 0.9 * limit
    suggestions = []
    if not fits:
        tries = []
        if a.lora_r == 0:
            tries.append(("LoRA r=8 (--lora-r 8)", dict(lora_r=8, checkpointing=a.gradient_checkpointing, batch=a.batch_size, precision=precision)))
        if not a.gradient_checkpointing:
            tries.append(("gradient checkpointing (--gradient-checkpointing)", dict(lora_r=a.lora_r, checkpointing=True, batch=a.batch_size, precision=precision)))
        if dev["type"] == "cuda" and precision == "fp32":
            tries.append(("bf16 mixed precision (--mixed-precision bf16)", dict(lora_r=a.lora_r, checkpointing=a.gradient_checkpointing, batch=a.batch_size, precision="bf16")))
        bsz = a.batch_size // 2
        while bsz >= 1:
            tries.append((f"batch size {bsz} (--batch-size {bsz}, raise --grad-accum to keep the step size)", dict(lora_r=a.lora_r, checkpointing=a.gradient_checkpointing, batch=bsz, precision=precision)))
            bsz //= 2
        for text, kw in tries:
            total = compute(model, cfg, a, **kw)["bytes"]["total"]
            suggestions.append({"change": text, "totalBytes": total, "fits": total <= 0.9 * limit})
    print(json.dumps({**out, "precision": precision, "device": dev, "fits": fits, "suggestions": suggestions}))
    return 0
