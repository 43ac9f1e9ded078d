"""The baseline of bench/torch-executor.bench.ts: a plain PyTorch DPO loop, the textbook one, on the same
model folder and the same tokenized batches the torch executor trains (RUN_DIR/data/dpo.train.jsonl):
transformers' AutoModelForCausalLM in fp32, reference log-probs computed once up front, then per step one
forward of the micro-batch's chosen + rejected rows, completion log-prob sums, −log σ(β·Δ), backward,
clip_grad_norm_(1.0), torch.optim.AdamW step. Usage: python torch_dpo_plain.py MODEL TRAIN_JSONL BATCH STEPS;
prints one JSON line {step_ms: [...], tokens: [...]} (every step, the caller drops the warm-up)."""

import json
import sys
import time

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

model_dir, train_file, batch, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(line) for line in open(train_file, encoding="utf-8") if line.strip()]
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
model.config.use_cache = False


def make_batch(examples):
    seqs = [s for e in examples for s in e["sequences"]]  # chosen, rejected, chosen, rejected, ...
    T = max(len(s["prompt"]) + len(s["completion"]) for s in seqs)
    ids = torch.zeros((len(seqs), T), dtype=torch.long)
    attn = torch.zeros((len(seqs), T), dtype=torch.long)
    comp = torch.zeros((len(seqs), T))
    for b, s in enumerate(seqs):
        x = s["prompt"] + s["completion"]
        ids[b, : len(x)] = torch.tensor(x)
        attn[b, : len(x)] = 1
        comp[b, len(s["prompt"]) : len(x)] = 1
    return ids, attn, comp, int(attn.sum())


def logp_sums(ids, attn, comp):
    logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1]
    lp = -F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(ids.shape[0], -1)
    return (lp * comp[:, 1:]).sum(1)


batches = [make_batch(rows[i * batch : (i + 1) * batch]) for i in range(steps)]
with torch.no_grad():
    refs = [logp_sums(*b[:3]) for b in batches]
opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
model.train()
times, tokens = [], []
for (ids, attn, comp, n), ref in zip(batches, refs):
    t0 = time.perf_counter()
    pol = logp_sums(ids, attn, comp)
    ratio = (pol - ref).view(-1, 2)
    loss = -F.logsigmoid(0.1 * (ratio[:, 0] - ratio[:, 1])).mean()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    loss.item()
    times.append((time.perf_counter() - t0) * 1000)
    tokens.append(n)
print(json.dumps({"step_ms": times, "tokens": tokens, "threads": torch.get_num_threads()}))
