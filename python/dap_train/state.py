"""Checkpoints (CONTRACT.md §3): RUN_DIR/checkpoints/STAGE-step-NNNNNN/ with model/ (the source layout in
F32) or, under LoRA, adapter/ (PEFT, F32); optimizer.safetensors (AdamW moments of the trainable
parameters by name) + optimizer.json (step, settings); trainer_state.json (the tfjs TrainerState: stage,
step, epoch, cursor, totalSteps, numTokens, seed). Written atomically (folders.atomic_folder)."""

import json
import os
from dataclasses import asdict, dataclass

import torch

from .folders import atomic_folder
from .lora import lora_modules, save_adapter
from .model_io import save_model_folder

ADAMW = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "decayMatricesOnly": True}


@dataclass
class TrainerState:
    stage: str
    step: int
    epoch: int
    cursor: int
    totalSteps: int
    numTokens: int
    seed: int


def checkpoint_dir(run_dir: str, stage: str, step: int) -> str:
    return os.path.join(run_dir, "checkpoints", f"{stage}-step-{step:06d}")


def read_trainer_state(folder: str) -> TrainerState:
    p = os.path.join(folder, "trainer_state.json")
    if not os.path.exists(p):
        raise ValueError(f"{folder}: not a checkpoint folder (no trainer_state.json)")
    with open(p, encoding="utf-8") as f:
        d = json.load(f)
    return TrainerState(**{k: d[k] for k in TrainerState.__dataclass_fields__})


def save_optimizer(moments: dict, path: str, weight_decay: float) -> None:
    """Moments ({name: {step, exp_avg, exp_avg_sq}}) as exp_avg.NAME / exp_avg_sq.NAME (F32); step in path + '.json'."""
    from safetensors.torch import save_file

    tensors, step = {}, 0
    for name, st in moments.items():
        tensors[f"exp_avg.{name}"] = st["exp_avg"].detach().float().cpu().contiguous().clone()
        tensors[f"exp_avg_sq.{name}"] = st["exp_avg_sq"].detach().float().cpu().contiguous().clone()
        step = int(float(st["step"]))
    save_file(tensors, path, metadata={"format": "dap-adamw-torch"})
    with open(path + ".json", "w", encoding="utf-8") as f:
        json.dump({"step": step, "config": {**ADAMW, "weightDecay": weight_decay}}, f, indent=2)
        f.write("\n")


def read_optimizer(path: str, named: list) -> dict:
    """The moments save_optimizer wrote, checked against the trainable parameters (names and shapes)."""
    from safetensors import safe_open

    with open(path + ".json", encoding="utf-8") as f:
        step = json.load(f)["step"]
    out = {}
    with safe_open(path, "pt") as f:
        keys = set(f.keys())
        for name, p in named:
            for k in (f"exp_avg.{name}", f"exp_avg_sq.{name}"):
                if k not in keys:
                    raise ValueError(f'{path}: optimizer state lacks "{k}"')
            m, v = f.get_tensor(f"exp_avg.{name}"), f.get_tensor(f"exp_avg_sq.{name}")
            if tuple(m.shape) != tuple(p.shape):
                raise ValueError(f'{path}: "exp_avg.{name}" has shape {list(m.shape)}, the parameter has {list(p.shape)}')
            out[name] = {"step": torch.tensor(float(step)), "exp_avg": m, "exp_avg_sq": v}
    return out


def write_checkpoint(run_dir: str, model, source: str, lora_base: str, model_state: dict, moments: dict, state: TrainerState, weight_decay: float) -> str:
    """Writes one checkpoint folder atomically from full state dicts (rank 0); returns its path."""
    dest = checkpoint_dir(run_dir, state.stage, state.step)
    with atomic_folder(dest) as tmp:
        if lora_modules(model):
            save_adapter(model, os.path.join(tmp, "adapter"), lora_base, state=model_state)
        else:
            save_model_folder(model, source, os.path.join(tmp, "model"), dtype="F32", state=model_state)
        save_optimizer(moments, os.path.join(tmp, "optimizer.safetensors"), weight_decay)
        with open(os.path.join(tmp, "trainer_state.json"), "w", encoding="utf-8") as f:
            json.dump(asdict(state), f, indent=2)
            f.write("\n")
    return dest
