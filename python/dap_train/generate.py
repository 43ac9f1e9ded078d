"""`python -m dap_train generate --model DIR --data ROWS.jsonl|- [--device D] ...`: sampled or greedy
continuations with transformers' ``model.generate`` (KV cache on), for `dap generate --executor torch`
(src/train/torch/generate.ts, which keeps one process per model and streams rows through stdin with
``--data -``). Tokenization stays on the TypeScript side: each input line is
``{"ids": [prompt token ids], "seed": S, "maxNew"?: N}``, each output line (same order, flushed)
``{"ids": [new token ids]}`` without the prompt and without the stopping EOS, as the tfjs engine's
generate() returns them; a bad line is an error naming the line.
Every row is generated on its own with ``torch.manual_seed(S)`` first, so a row's sample depends only on
its seed (not on the batch it came in); greedy (temperature 0) ignores the seed. Sampling is plain
temperature + nucleus (top-p) sampling: top-k and every other generation_config default are turned off."""

import json
import sys


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, help="a Hugging Face model folder (safetensors)")
    p.add_argument("--data", required=True, help='rows {"ids": [...], "seed": S, "maxNew"?: N}, one JSON line each; - reads stdin')
    p.add_argument("--max-new-tokens", type=int, required=True, help="new tokens at most (a row's maxNew overrides it)")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--eos-id", type=int, required=True)
    p.add_argument("--pad-id", type=int, required=True)
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu) or a torch device")


def pick_device(name: str):
    import torch

    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def parse_row(line: str, where: str):
    """(ids, seed, maxNew or None) of one input line."""
    try:
        r = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not JSON: {e}") from None
    ids, seed, max_new = r.get("ids"), r.get("seed", 0), r.get("maxNew")
    if not isinstance(ids, list) or not ids or not all(isinstance(t, int) for t in ids):
        raise ValueError(f"{where}: ids: expected a non-empty list of token ids")
    if not isinstance(seed, int):
        raise ValueError(f"{where}: seed: expected an integer")
    if max_new is not None and (not isinstance(max_new, int) or max_new < 0):
        raise ValueError(f"{where}: maxNew: expected an integer >= 0")
    return ids, seed, max_new


def rows_of(path: str):
    """The rows of a file, or of stdin line by line (`-`, answered as each arrives)."""
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    name = "stdin" if path == "-" else path
    try:
        n = 0
        while True:
            line = f.readline()
            if not line:
                return
            n += 1
            if line.strip():
                yield parse_row(line, f"{name}:{n}")
    finally:
        if f is not sys.stdin:
            f.close()


def generate_main(a) -> int:
    import torch
    from transformers import GenerationConfig

    from .model_io import load_model

    device = pick_device(a.device)
    model = load_model(a.model).to(device)
    model.eval()
    torch.set_grad_enabled(False)
    sample = a.temperature > 0
    config = GenerationConfig(
        max_new_tokens=a.max_new_tokens, do_sample=sample, temperature=a.temperature if sample else None,
        top_p=a.top_p if sample else None, top_k=None, num_beams=1, use_cache=True,
        eos_token_id=a.eos_id, pad_token_id=a.pad_id, bos_token_id=None, repetition_penalty=None,
    )
    for ids, seed, max_new in rows_of(a.data):
        steps = a.max_new_tokens if max_new is None else max_new
        new = []
        if steps > 0:
            torch.manual_seed(seed)
            x = torch.tensor([ids], dtype=torch.long, device=device)  # (1, P)
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), generation_config=config, max_new_tokens=steps)  # (1, P + new)
            new = out[0, len(ids):].tolist()
            if a.eos_id in new:
                new = new[: new.index(a.eos_id)]
        sys.stdout.write(json.dumps({"ids": new}) + "\n")
        sys.stdout.flush()
    return 0
