/**
 * LoRA on the torch executor (issue 11 points 3, 4, 8): our adapters (no peft needed) on GPT-2's Conv1D
 * c_attn and Llama's q_proj/v_proj train the same first steps as the tfjs executor's LoRA (same seeded A,
 * B = 0, 1e-4); the run writes adapter/ in PEFT's layout and the merged model/ in the source dtype (BF16
 * here); the adapter is loaded by the tfjs engine (same log-probs as torch's base + adapter) and by
 * transformers (base + the adapter's B·A·α/r gives the merged model/'s logits); the tfjs run's adapter is
 * loaded by the torch side too; LoRA checkpoints hold the adapter only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPretrained, saveModel } from '../../src/engine/checkpoint';
import { readHeader } from '../../src/engine/safetensors';
import type { StepEvent, TrainEvent } from '../../src/train/runs/trainEvents';
import { runTraining } from '../../src/train/pipeline';
import { prepareRun, runDapTrain, startPython, tempDir, tfjsLogps, tinyGpt2, tinyLlama, torchLogps, writeJsonl } from './fixtures';

const steps = (events: TrainEvent[]) => events.filter((e): e is StepEvent => e.type === 'step');

const MERGE_CHECK = `
import json, sys, torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM
base, adapter, merged = sys.argv[1:4]
m = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
cfg = json.load(open(adapter + "/adapter_config.json"))
w = load_file(adapter + "/adapter_model.safetensors")
mods = dict(m.named_modules())
n = 0
with torch.no_grad():
    for k, a in w.items():
        if not k.endswith(".lora_A.weight"):
            continue
        name = k[len("base_model.model."):-len(".lora_A.weight")]
        b = w[k.replace("lora_A", "lora_B")]
        delta = (b @ a) * (cfg["lora_alpha"] / cfg["r"])
        w_new = mods[name].weight + (delta.t() if cfg["fan_in_fan_out"] else delta)
        mods[name].weight.copy_(w_new.to(torch.bfloat16).float())  # the merged output is saved in the source BF16
        n += 1
ref = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)
ids = torch.tensor([[256, 81, 49, 58, 32, 121, 101, 115]])
print(json.dumps({"modules": n, "diff": (m(ids).logits - ref(ids).logits).abs().max().item(), "dtype": str(next(ref.parameters()).dtype)}))
`;

for (const family of ['gpt2', 'llama'] as const) {
  test(`${family}: LoRA trains as on tfjs; adapter/ loads in the tfjs engine and in transformers; model/ is merged in BF16`, async () => {
    const dir = tempDir(`lora-${family}`);
    const fp32 = family === 'gpt2' ? await tinyGpt2(dir, 21) : await tinyLlama(dir, 22);
    // A BF16 source folder: outputs must come back in BF16.
    const { model: m } = loadPretrained(fp32);
    for (const p of m.params.values()) p.dtype = 'BF16';
    const model = join(dir, `${family}-bf16`);
    await saveModel(m, model);
    m.dispose();
    const rows = Array.from({ length: 16 }, (_, i) => ({ prompt: `Q${i % 8}: ${'k'.repeat(i % 3)}`, chosen: ` yes ${i % 5}`, rejected: ` no${'.'.repeat(i % 2)}` }));
    const data = writeJsonl(join(dir, 'pairs.jsonl'), rows);
    const config = { data, model, method: 'dpo' as const, epochs: 1, batchSize: 4, lr: 5e-2, seed: 3, maxSteps: 3, checkpointEvery: 1, lora: { r: 4, alpha: 8 } };
    const tfjsEvents: TrainEvent[] = [];
    const tj = await runTraining({ ...config, out: dir, runId: 'tfjs', backend: 'wasm' }, { onEvent: (e) => tfjsEvents.push(e) });
    assert.equal(tj.status, 'finished', tj.error);
    const { runDir } = await prepareRun({ ...config, runId: 'torch' }, dir);
    const py = await runDapTrain(['train', runDir]);
    assert.equal(py.code, 0, py.stderr.slice(-2000));
    const a = steps(tfjsEvents), b = steps(py.events);
    assert.equal(b.length, 3);
    for (let i = 0; i < 3; i++) for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'grad_norm']) {
      assert.ok(Math.abs(a[i].metrics[k] - b[i].metrics[k]) < 1e-4, `step ${i + 1} ${k}: tfjs ${a[i].metrics[k]} vs torch ${b[i].metrics[k]}`);
    }
    const line = py.events.find((e) => e.type === 'log' && e.message.includes('trainable params'));
    const tline = tfjsEvents.find((e) => e.type === 'log' && e.message.includes('trainable params'));
    assert.equal(line?.type === 'log' && line.message, tline?.type === 'log' && tline.message, 'the same PEFT trainable-parameters line');

    // Outputs: PEFT adapter (F32) + merged model in the source dtype; checkpoints hold the adapter only.
    const adapter = join(runDir, 'adapter');
    const cfg = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8'));
    assert.deepEqual([cfg.peft_type, cfg.r, cfg.lora_alpha, cfg.base_model_name_or_path, cfg.fan_in_fan_out], ['LORA', 4, 8, model, family === 'gpt2']);
    assert.deepEqual(cfg.target_modules, family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj']);
    const keys = [...readHeader(join(adapter, 'adapter_model.safetensors')).tensors.keys()].sort();
    const tkeys = [...readHeader(join(tj.runDir, 'adapter', 'adapter_model.safetensors')).tensors.keys()].sort();
    assert.deepEqual(keys, tkeys, 'the same PEFT tensor names as the tfjs executor writes');
    assert.ok(keys.every((k) => /^base_model\.model\..+\.lora_[AB]\.weight$/.test(k)));
    const dtypes = new Set([...readHeader(join(runDir, 'model', 'model.safetensors')).tensors.values()].map((t) => t.dtype));
    assert.deepEqual([...dtypes], ['BF16']);
    const ckpts = readdirSync(join(runDir, 'checkpoints'));
    assert.ok(ckpts.length >= 1);
    for (const c of ckpts) {
      assert.ok(existsSync(join(runDir, 'checkpoints', c, 'adapter', 'adapter_model.safetensors')));
      assert.ok(!existsSync(join(runDir, 'checkpoints', c, 'model')), 'no copy of the base model');
    }

    // Loaded by the tfjs engine and by the torch side, both ways.
    const evalFile = join(runDir, 'data', 'dpo.eval.jsonl');
    const examples = readFileSync(evalFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const padId = String(JSON.parse(readFileSync(join(runDir, 'data', 'meta.json'), 'utf8')).tokenizer.padId);
    const byTfjs = tfjsLogps(model, examples, adapter);
    const byTorch = await torchLogps(['--model', model, '--adapter', adapter, '--data', evalFile, '--pad-id', padId]);
    const tfjsAdapterByTorch = await torchLogps(['--model', model, '--adapter', join(tj.runDir, 'adapter'), '--data', evalFile, '--pad-id', padId]);
    const tfjsAdapterByTfjs = tfjsLogps(model, examples, join(tj.runDir, 'adapter'));
    byTfjs.forEach((v, i) => {
      const tol = 1e-4 * Math.max(1, Math.abs(v));
      assert.ok(Math.abs(v - byTorch[i]) < tol, `torch adapter: tfjs ${v} vs torch ${byTorch[i]}`);
      assert.ok(Math.abs(tfjsAdapterByTfjs[i] - tfjsAdapterByTorch[i]) < tol, `tfjs adapter: tfjs ${tfjsAdapterByTfjs[i]} vs torch ${tfjsAdapterByTorch[i]}`);
    });
    const merged = await startPython(['-c', MERGE_CHECK, model, adapter, join(runDir, 'model')]).done;
    assert.equal(merged.code, 0, merged.stderr.slice(-2000));
    const res = JSON.parse(merged.stdout.trim().split('\n').at(-1)!);
    assert.equal(res.modules, family === 'gpt2' ? 1 : 2);
    assert.equal(res.dtype, 'torch.float32');
    assert.ok(res.diff < 1e-4, `transformers base + adapter (rounded to BF16) vs the merged model/: max logit difference ${res.diff}`);
  });
}
