"""`python -m dap_train logps --model DIR [--adapter DIR] --data TOKENIZED.jsonl [--batch-size N]`: the
completion log-probs of every sequence of a tokenized examples file (CONTRACT.md §2 line format) under a
model folder (plus a PEFT LoRA adapter), one JSON line per example:
{"sequences": [{"sum", "mean", "tokens"}, …]} — what `dap logps` prints per row on the tfjs engine, so
either executor can score the other's saved models."""

import json


def add_arguments(p) -> None:
    p.add_argument("--model", required=True)
    p.add_argument("--adapter")
    p.add_argument("--data", required=True, help="tokenized examples, one JSON line each")
    p.add_argument("--pad-id", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=8)


def score_main(a) -> int:
    import torch

    from .data import collate
    from .lora import load_adapter
    from .logps import sequence_logps
    from .model_io import load_model

    model = load_model(a.model)
    if a.adapter:
        load_adapter(model, a.adapter)
    model.eval()
    torch.set_grad_enabled(False)
    examples = _read_any(a.data)
    for start in range(0, len(examples), a.batch_size):
        group = examples[start : start + a.batch_size]
        seqs = [s for e in group for s in e.sequences]
        l = sequence_logps(model, collate(seqs, a.pad_id), torch.device("cpu"))
        k = 0
        for e in group:
            n = len(e.sequences)
            rows = [{"sum": l.sum[k + j].item(), "mean": l.mean[k + j].item(), "tokens": int(l.count[k + j].item())} for j in range(n)]
            k += n
            print(json.dumps({"sequences": rows}))
    return 0


def _read_any(path: str) -> list:
    """Examples of any kind (only their sequences matter here)."""
    from .data import Example, parse_example

    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                ex = parse_example(json.loads(line), "any", f"{path}:{n}")
                out.append(Example(ex.sequences))
    return out
