"""Model folders: loading a Hugging Face folder with transformers (safetensors only: a folder with only
pickle weights is refused without opening them) in float32 with dropout off (the tfjs engine has none;
TRL disables it too), and saving weights back in the SOURCE folder's layout — the same tensor keys, the same
shards, each tensor in the source dtype (or F32 for checkpoints), tensors the model does not own copied
as they were, a tied lm_head copy written from the trained embeddings — with config.json and the
tokenizer files, as src/engine/checkpoint.ts saves, so either executor (and transformers) loads the result."""

import json
import os
import re
import shutil

import torch

TOKENIZER_FILES = [
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
    "tokenizer.model", "added_tokens.json", "chat_template.jinja", "generation_config.json",
]
PICKLE_RE = re.compile(r"\.(bin|pt|pth|ckpt|pkl)$", re.I)
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
DTYPE_NAMES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def weight_files(folder: str) -> dict:
    """Tensor key → shard file name of a folder's safetensors weights (refusing pickles, clearly)."""
    index = os.path.join(folder, "model.safetensors.index.json")
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            wm = json.load(f).get("weight_map")
        if not isinstance(wm, dict):
            raise ValueError(f'{index}: missing "weight_map"')
        return dict(wm)
    if os.path.exists(single):
        from safetensors import safe_open

        with safe_open(single, "pt") as f:
            return {k: "model.safetensors" for k in f.keys()}
    if not os.path.isdir(folder):
        raise ValueError(f"{folder}: model folder not found")
    pickles = sorted(n for n in os.listdir(folder) if PICKLE_RE.search(n))
    if pickles:
        raise ValueError(f"{os.path.join(folder, pickles[0])}: refusing to load a pickle checkpoint (it can run arbitrary code when opened). "
                         "Convert it to safetensors first: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)")
    raise ValueError(f"{single}: missing file: the model folder has neither model.safetensors nor model.safetensors.index.json")


def source_layout(folder: str) -> list:
    """[(key, dtype name, shard file)] of a folder's weights, in file order."""
    from safetensors import safe_open

    files = weight_files(folder)
    out = []
    for shard in dict.fromkeys(files.values()):
        with safe_open(os.path.join(folder, shard), "pt") as f:
            for k in f.keys():
                if files.get(k) == shard:
                    out.append((k, f.get_slice(k).get_dtype(), shard))
    return out


def disable_dropout(model) -> None:
    """Every dropout probability to 0 (modules and attention-dropout attributes)."""
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        for attr in ("attention_dropout", "attn_dropout_p", "dropout_p"):
            if isinstance(getattr(m, attr, None), float):
                setattr(m, attr, 0.0)


def load_model(folder: str):
    """A causal LM from a folder in float32, dropout off, cache off."""
    from transformers import AutoModelForCausalLM

    weight_files(folder)  # refuses pickles with a clear message before transformers sees the folder
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, use_safetensors=True)
    disable_dropout(model)
    model.config.use_cache = False
    return model


def _lookup(state: dict, key: str, prefix: str):
    for k in (key, f"{prefix}.{key}", key[len(prefix) + 1:] if key.startswith(prefix + ".") else None):
        if k is not None and k in state:
            return k
    return None


def save_model_folder(model, source: str, dest: str, dtype: str = None, state: dict = None) -> None:
    """Writes model's weights (or `state`, a full state dict by the model's parameter names) into `dest` (an
    empty folder) in the layout of folder `source` (see file doc). dtype "F32" forces float32 (checkpoints);
    None keeps each tensor's source dtype."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    state = model.state_dict() if state is None else state
    prefix = getattr(model, "base_model_prefix", "")
    by_file: dict = {}
    written_ptrs, written_names = set(), set()
    dtypes_written = set()
    for key, src_dtype, shard in source_layout(source):
        name = _lookup(state, key, prefix)
        if name is None:  # a tensor the model does not own (e.g. an old buffer): copied as it was
            with safe_open(os.path.join(source, shard), "pt") as f:
                t = f.get_tensor(key)
        else:
            t = state[name].detach().to("cpu")
            written_ptrs.add(state[name].data_ptr())
            written_names.add(name)
            if src_dtype in DTYPES and t.is_floating_point():
                target = dtype or src_dtype
                t = t.to(DTYPES[target])
                dtypes_written.add(target)
        by_file.setdefault(shard, {})[key] = t.contiguous().clone()
    first = next(iter(by_file)) if by_file else "model.safetensors"
    param_names = {n for n, _ in model.named_parameters()}
    for name, t in state.items():  # parameters the source lacked (not tied copies of written ones; no buffers)
        if name not in param_names or "dap_lora_" in name or name in written_names or t.data_ptr() in written_ptrs:
            continue
        if t.is_floating_point():
            t = t.detach().to("cpu", DTYPES[dtype or "F32"])
        by_file[first][name] = t.contiguous().clone()
        written_ptrs.add(state[name].data_ptr())
    os.makedirs(dest, exist_ok=True)
    for shard, tensors in by_file.items():
        save_file(tensors, os.path.join(dest, shard), metadata={"format": "pt"})
    if os.path.exists(os.path.join(source, "model.safetensors.index.json")):
        total = sum(t.numel() * t.element_size() for ts in by_file.values() for t in ts.values())
        wm = {k: shard for shard, ts in by_file.items() for k in ts}
        with open(os.path.join(dest, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(wm.items()))}, f, indent=2)
            f.write("\n")
    with open(os.path.join(source, "config.json"), encoding="utf-8") as f:
        raw = json.load(f)
    if len(dtypes_written) == 1:
        raw["torch_dtype"] = DTYPE_NAMES[next(iter(dtypes_written))]
        if "dtype" in raw:
            raw["dtype"] = raw["torch_dtype"]
    with open(os.path.join(dest, "config.json"), "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for name in TOKENIZER_FILES:
        src = os.path.join(source, name)
        if os.path.exists(src) and not os.path.exists(os.path.join(dest, name)):
            shutil.copyfile(src, os.path.join(dest, name))
