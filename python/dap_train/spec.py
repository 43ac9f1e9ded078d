"""Reading a prepared run folder's config.json and data/meta.json (CONTRACT.md §2) into plain settings,
with errors naming the file and the field. The TS host resolved and validated the config; this only checks
that what the trainer needs is there and has the right type."""

import json
import os
from dataclasses import dataclass
from typing import Optional


class SpecError(ValueError):
    """A prepared run folder that does not follow the contract."""


def _load(path: str) -> dict:
    if not os.path.exists(path):
        raise SpecError(f"{path}: missing file (the host prepares it before launching dap_train)")
    with open(path, encoding="utf-8") as f:
        try:
            v = json.load(f)
        except json.JSONDecodeError as e:
            raise SpecError(f"{path}: not JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(v, dict):
        raise SpecError(f"{path}: expected a JSON object")
    return v


def _get(obj: dict, key: str, types, where: str, default=...):
    if key not in obj or obj[key] is None:
        if default is ...:
            raise SpecError(f"{where}: {key}: missing")
        return default
    v = obj[key]
    ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)))
    if not ok:
        raise SpecError(f"{where}: {key}: expected {types if not isinstance(types, tuple) else ' or '.join(t.__name__ for t in types)}, got {json.dumps(v)}")
    return v


NUM = (int, float)


@dataclass
class StageSpec:
    stage: str
    loss: str
    kind: str
    epochs: int
    lr: float
    train: str  # absolute path
    eval: str
    max_steps: Optional[int]
    train_count: Optional[int] = None  # meta.json's count.train (the stage plan's step count), when given


@dataclass
class RunSpec:
    run_dir: str
    config: dict  # the whole resolved config (echoed in `started`)
    model: str
    eos_id: int
    pad_id: int
    bos_id: Optional[int]
    stages: list
    hyper: dict
    batch_size: int
    grad_accum: int
    schedule: str
    warmup_ratio: float
    max_grad_norm: float
    weight_decay: float
    eval_every: int
    reference: str
    checkpoint_every: int
    seed: int
    spin: dict
    lora: Optional[dict]
    device: str
    mixed_precision: str
    gradient_checkpointing: bool
    max_length: int
    max_prompt_length: int


def read_run_spec(run_dir: str, max_steps: Optional[int] = None) -> RunSpec:
    """The run folder's settings; `max_steps` (`train --max-steps N`) replaces config.json's maxSteps, also in
    the config reported by `started` (the file itself is not rewritten: the host keeps owning it)."""
    run_dir = os.path.abspath(run_dir)
    cpath = os.path.join(run_dir, "config.json")
    mpath = os.path.join(run_dir, "data", "meta.json")
    c = _load(cpath)
    if max_steps is not None:
        c = {**c, "maxSteps": max_steps}
    m = _load(mpath)
    if m.get("version") != 1:
        raise SpecError(f"{mpath}: version: expected 1, got {json.dumps(m.get('version'))}")
    tok = _get(m, "tokenizer", dict, mpath)
    stages = []
    for i, s in enumerate(_get(m, "stages", list, mpath)):
        w = f"{mpath}: stages[{i}]"
        if not isinstance(s, dict):
            raise SpecError(f"{w}: expected an object")
        stages.append(StageSpec(
            stage=_get(s, "stage", str, w), loss=_get(s, "loss", str, w), kind=_get(s, "kind", str, w),
            epochs=_get(s, "epochs", int, w), lr=float(_get(s, "lr", NUM, w)),
            train=os.path.join(run_dir, _get(s, "train", str, w)), eval=os.path.join(run_dir, _get(s, "eval", str, w)),
            max_steps=_get(s, "maxSteps", int, w, None) if "maxSteps" in s else _get(c, "maxSteps", int, cpath, None),
            train_count=_get(s["count"], "train", int, f"{w}: count", None) if isinstance(s.get("count"), dict) else None,
        ))
    if not stages:
        raise SpecError(f"{mpath}: stages: expected at least one stage")
    lora = c.get("lora")
    if lora is not None:
        _get(lora, "r", int, f"{cpath}: lora")
        _get(lora, "alpha", NUM, f"{cpath}: lora")
        if not _get(lora, "targetModules", list, f"{cpath}: lora"):
            raise SpecError(f"{cpath}: lora.targetModules: expected the resolved target modules, got []")
    return RunSpec(
        run_dir=run_dir, config=c, model=_get(m, "model", str, mpath),
        eos_id=_get(tok, "eosId", int, f"{mpath}: tokenizer"), pad_id=_get(tok, "padId", int, f"{mpath}: tokenizer"),
        bos_id=_get(tok, "bosId", int, f"{mpath}: tokenizer", None), stages=stages,
        hyper=_get(c, "loss", dict, cpath), batch_size=_get(c, "batchSize", int, cpath), grad_accum=_get(c, "gradAccum", int, cpath, 1),
        schedule=_get(c, "schedule", str, cpath, "linear"), warmup_ratio=float(_get(c, "warmupRatio", NUM, cpath, 0.1)),
        max_grad_norm=float(_get(c, "maxGradNorm", NUM, cpath, 1)), weight_decay=float(_get(c, "weightDecay", NUM, cpath, 0)),
        eval_every=_get(c, "evalEvery", int, cpath, 0), reference=_get(c, "reference", str, cpath, "precomputed"),
        checkpoint_every=_get(c, "checkpointEvery", int, cpath, 0), seed=_get(c, "seed", int, cpath, 0),
        spin=_get(c, "spin", dict, cpath, {}), lora=lora, device=_get(c, "device", str, cpath, "auto"),
        mixed_precision=_get(c, "mixedPrecision", str, cpath, "auto"),
        gradient_checkpointing=_get(c, "gradientCheckpointing", bool, cpath, False),
        max_length=_get(c, "maxLength", int, cpath), max_prompt_length=_get(c, "maxPromptLength", int, cpath),
    )
