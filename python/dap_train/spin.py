"""SPIN (self-play fine-tuning, port of src/train/pipeline/spin.ts): for iterations t = 1..T, generate a response
to every SFT prompt with the current model (transformers' model.generate: greedy when temperature is 0,
else sampling with top-p; seeds deriveSeed(seed, t) + batch start), build pairs (chosen = the target,
rejected = the generation, rendered as the engine renders completions), leave out generations equal to
their target, and train DPO stage "spin-t" with the reference = the model at the start of the iteration.
RUN_DIR/spin/iter-t/ holds generation.json, pairs.jsonl / eval-pairs.jsonl (readable rows),
pairs.tokens.jsonl / eval-pairs.tokens.jsonl (what trains; a resume rereads them) and model/ or adapter/."""

import json
import os

import torch

from .data import Example, read_examples
from .folders import atomic_folder, write_json
from .order import derive_seed
from .render import tokenize_row


def _render_completion(tokenizer, row: dict, text: str, eos_id: int) -> list:
    """Completion ids of a generated text for this row, as the engine renders a completion (render.py)."""
    target = row.get("completion")
    completion = text if isinstance(target, str) or target is None else [{"role": "assistant", "content": text}]
    _, c = tokenize_row(tokenizer, row.get("prompt", ""), completion, eos_id, None, max_length=1 << 30, max_prompt=1 << 30)
    return c


@torch.no_grad()
def generate(model, prompts: list, settings: dict, pad_id: int, eos_id: int, max_positions, device) -> list:
    """Generated token ids (EOS excluded) per prompt, batches of settings["batchSize"], left-padded."""
    out = []
    model.eval()
    for start in range(0, len(prompts), settings["batchSize"]):
        group = prompts[start : start + settings["batchSize"]]
        P = max(len(p) for p in group)
        ids = torch.full((len(group), P), pad_id, dtype=torch.long)
        mask = torch.zeros((len(group), P), dtype=torch.long)
        for b, p in enumerate(group):
            ids[b, P - len(p) :] = torch.tensor(p)
            mask[b, P - len(p) :] = 1
        steps = settings["maxNewTokens"] if max_positions is None else max(0, min(settings["maxNewTokens"], max_positions - P))
        if steps == 0:
            out.extend([] for _ in group)
            continue
        torch.manual_seed(settings["seed"] + start)
        sample = settings["temperature"] > 0
        gen = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), max_new_tokens=steps, do_sample=sample,
                             temperature=settings["temperature"] if sample else None, top_p=settings["topP"] if sample else None,
                             top_k=None if sample else None, eos_token_id=eos_id, pad_token_id=pad_id, use_cache=True)
        for row in gen[:, P:].tolist():
            out.append(row[: row.index(eos_id)] if eos_id in row else row)
    model.train()
    return out


def make_pairs(tokenizer, rows: list, gens: list, eos_id: int, max_length: int):
    """(tokenized pair examples, readable rows, count of generations equal to their target)."""
    examples, readable, same = [], [], 0
    for ex, gen in zip(rows, gens):
        prompt_ids, target_ids = ex.sequences[0]
        text = tokenizer.decode(gen)
        rejected = _render_completion(tokenizer, ex.row or {}, text, eos_id)[: max(1, max_length - len(prompt_ids))]
        if rejected == target_ids:
            same += 1
            continue
        target = (ex.row or {}).get("completion")
        examples.append(Example([(prompt_ids, target_ids), (prompt_ids, rejected)]))
        readable.append({"prompt": (ex.row or {}).get("prompt"), "chosen": target,
                         "rejected": text if isinstance(target, str) or target is None else [{"role": "assistant", "content": text}]})
    return examples, readable, same


def _write_jsonl(path: str, rows: list) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _tokens_row(e: Example) -> dict:
    return {"sequences": [{"prompt": p, "completion": c} for p, c in e.sequences]}


def iteration_dir(run_dir: str, it: int) -> str:
    return os.path.join(run_dir, "spin", f"iter-{it}")


def iteration_pairs(run, it: int, sft_train: list, sft_eval: list, resuming: bool):
    """The iteration's pairs: reread on resume, else generated now (and written)."""
    d = iteration_dir(run.spec.run_dir, it)
    os.makedirs(d, exist_ok=True)
    tok_train, tok_eval = os.path.join(d, "pairs.tokens.jsonl"), os.path.join(d, "eval-pairs.tokens.jsonl")
    if resuming and os.path.exists(tok_train):
        return read_examples(tok_train, "pairs"), read_examples(tok_eval, "pairs")
    spec, spin = run.spec, run.spec.spin
    settings = {"maxNewTokens": spin.get("maxNewTokens", 24), "temperature": spin.get("temperature", 0), "topP": spin.get("topP", 1),
                "seed": derive_seed(spec.seed, it), "batchSize": max(8, spec.batch_size), "maxPromptLength": spec.max_prompt_length}
    results = {}
    for name, rows in (("train", sft_train), ("eval", sft_eval)):
        gens = generate(run.base, [e.sequences[0][0] for e in rows], settings, spec.pad_id, spec.eos_id, run.max_positions, run.setup.device)
        results[name] = make_pairs(run.tokenizer(), rows, gens, spec.eos_id, spec.max_length)
    if run.setup.is_main:
        write_json(os.path.join(d, "generation.json"), {"iteration": it, **settings,
                   "generatedEqualsTarget": {"train": results["train"][2], "eval": results["eval"][2]}})
        _write_jsonl(os.path.join(d, "pairs.jsonl"), results["train"][1])
        _write_jsonl(os.path.join(d, "eval-pairs.jsonl"), results["eval"][1])
        _write_jsonl(tok_train, [_tokens_row(e) for e in results["train"][0]])
        _write_jsonl(tok_eval, [_tokens_row(e) for e in results["eval"][0]])
        run.sink.log(f"SPIN iteration {it}: {len(results['train'][0])} pairs ({results['train'][2]} generations equal their target, left out)")
    run.setup.accelerator.wait_for_everyone()
    return results["train"][0], results["eval"][0]


def run_spin(run, stage_spec, sft_train: list, sft_eval: list, resume) -> dict:
    """Runs the iterations on run.base in place; returns the last stage's result."""
    spec = run.spec
    if run.setup.accelerator.distributed_type.name == "FSDP":
        raise ValueError("spin: generation needs the whole model in each process; SPIN runs under DDP, not FSDP")
    resume_it = int(resume[1][5:]) if resume and resume[1].startswith("spin-") else 0
    result = {"steps": 0, "cancelled": False, "final": {}, "checkpoint": None}
    for it in range(1, int(spec.spin.get("iterations", 2)) + 1):
        if it < resume_it:
            continue
        resuming = it == resume_it
        train, evals = iteration_pairs(run, it, sft_train, sft_eval, resuming)
        if not train:
            run.sink.log(f"SPIN iteration {it}: the model reproduces every target; stopping")
            break
        d = iteration_dir(spec.run_dir, it)
        epochs = spec.spin.get("epochsPerIteration") or stage_spec.epochs
        result = run.train_stage(f"spin-{it}", "pairs", "dpo", train, evals, epochs, stage_spec.lr, stage_spec.max_steps,
                                 resume[0] if resuming else None, live_dir=os.path.join(d, "reference"))
        if result["cancelled"]:
            return result
        run.save_policy(os.path.join(d, "adapter" if run.has_lora() else "model"), final=False)
    return result
