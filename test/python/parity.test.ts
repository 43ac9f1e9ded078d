/**
 * Cross-executor parity (issue 11 point 4) on the tiny GPT-2 (plain-text pairs) and Llama (conversational
 * pairs through a chat template) folders: the same run trained by the tfjs executor (runTraining, in this
 * process) and by the torch executor (python -m dap_train on a folder prepared from the same data) gives
 * step-0 DPO loss ln 2 (1e-6), the same first 5 optimizer steps' losses and rewards (1e-4, fp32, same seed
 * and data order), and saved models whose log-probs agree when either executor scores either model.
 * transformers' tokenizer (used by the torch side for new rows, e.g. SPIN) tokenizes the rows to the same
 * ids and prompt/completion boundaries as the engine, chat template included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPretrained } from '../../src/engine/checkpoint';
import { tokenizeRow } from '../../src/engine/logps';
import type { StepEvent, TrainEvent } from '../../src/train/runs/trainEvents';
import { eventSchemaErrors } from '../../src/train/runs/eventSchema';
import { runTraining } from '../../src/train/pipeline';
import { prepareRun, runDapTrain, startPython, tempDir, tfjsLogps, tinyGpt2, tinyLlama, torchLogps, writeJsonl } from './fixtures';

const TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

function pairRows(conversational: boolean) {
  return Array.from({ length: 26 }, (_, i) => {
    const prompt = `Q${i % 13}: ${'ab'.repeat(i % 4)}?`;
    const chosen = ` yes ${i}`, rejected = ` no${'!'.repeat(i % 3)}`;
    if (!conversational) return { prompt, chosen, rejected };
    const msg = (role: string, content: string) => [{ role, content }];
    return { prompt: i % 5 === 0 ? [...msg('system', 'be brief'), ...msg('user', prompt)] : msg('user', prompt), chosen: msg('assistant', chosen), rejected: msg('assistant', rejected) };
  });
}

const KEYS = ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'logps/chosen', 'logps/rejected'];
const steps = (events: TrainEvent[]) => events.filter((e): e is StepEvent => e.type === 'step');

for (const family of ['gpt2', 'llama'] as const) {
  test(`${family}: the torch executor trains the tfjs executor's run: ln 2 at step 0, the same 5 steps, equal saved models`, async () => {
    const dir = tempDir(`parity-${family}`);
    const conversational = family === 'llama';
    const model = conversational ? await tinyLlama(dir) : await tinyGpt2(dir);
    if (conversational) {
      const cfgPath = join(model, 'tokenizer_config.json');
      writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), chat_template: TEMPLATE }, null, 2));
    }
    const data = writeJsonl(join(dir, 'pairs.jsonl'), pairRows(conversational));
    const config = { data, model, method: 'dpo' as const, epochs: 1, batchSize: 4, lr: 1e-2, seed: 7, maxSteps: 5 };

    const tfjsEvents: TrainEvent[] = [];
    const tj = await runTraining({ ...config, out: dir, runId: 'tfjs', backend: 'wasm' }, { onEvent: (e) => tfjsEvents.push(e) });
    assert.equal(tj.status, 'finished', tj.error);
    const { runDir } = await prepareRun({ ...config, runId: 'torch' }, dir);
    const py = await runDapTrain(['train', runDir]);
    assert.equal(py.code, 0, py.stderr.slice(-2000));
    for (const e of py.events) assert.deepEqual(eventSchemaErrors(e), [], JSON.stringify(e).slice(0, 300));
    const started = py.events.find((e) => e.type === 'started');
    assert.equal(started?.type === 'started' && started.executor, 'torch');

    const a = steps(tfjsEvents), b = steps(py.events);
    assert.equal(a.length, 5);
    assert.equal(b.length, 5);
    assert.ok(Math.abs(b[0].metrics.loss - Math.LN2) < 1e-6, `torch step-0 loss ${b[0].metrics.loss}`);
    assert.ok(Math.abs(a[0].metrics.loss - Math.LN2) < 1e-6, `tfjs step-0 loss ${a[0].metrics.loss}`);
    for (let i = 0; i < 5; i++) {
      for (const k of KEYS) {
        const tol = k.startsWith('logps') ? 1e-4 * Math.max(1, Math.abs(a[i].metrics[k])) : 1e-4;
        assert.ok(Math.abs(a[i].metrics[k] - b[i].metrics[k]) < tol, `step ${i + 1} ${k}: tfjs ${a[i].metrics[k]} vs torch ${b[i].metrics[k]}`);
      }
      assert.equal(a[i].metrics.num_tokens, b[i].metrics.num_tokens, 'the same tokens were trained on');
      assert.ok(Math.abs(a[i].metrics.learning_rate - b[i].metrics.learning_rate) < 1e-12);
    }

    // The saved models: each scored by both executors, on the held-out examples.
    const evalFile = join(runDir, 'data', 'dpo.eval.jsonl');
    const examples = readFileSync(evalFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const padId = JSON.parse(readFileSync(join(runDir, 'data', 'meta.json'), 'utf8')).tokenizer.padId;
    const scores = {
      torchByTfjs: tfjsLogps(join(runDir, 'model'), examples), torchByTorch: await torchLogps(['--model', join(runDir, 'model'), '--data', evalFile, '--pad-id', String(padId)]),
      tfjsByTfjs: tfjsLogps(join(tj.runDir, 'model'), examples), tfjsByTorch: await torchLogps(['--model', join(tj.runDir, 'model'), '--data', evalFile, '--pad-id', String(padId)]),
    };
    for (let i = 0; i < scores.torchByTfjs.length; i++) {
      const tol = 1e-4 * Math.max(1, Math.abs(scores.tfjsByTfjs[i]));
      assert.ok(Math.abs(scores.torchByTfjs[i] - scores.torchByTorch[i]) < tol, `torch's model scored by tfjs / torch: ${scores.torchByTfjs[i]} vs ${scores.torchByTorch[i]}`);
      assert.ok(Math.abs(scores.tfjsByTfjs[i] - scores.tfjsByTorch[i]) < tol, `tfjs's model scored by tfjs / torch: ${scores.tfjsByTfjs[i]} vs ${scores.tfjsByTorch[i]}`);
      assert.ok(Math.abs(scores.torchByTorch[i] - scores.tfjsByTfjs[i]) < 10 * tol, `the two runs' models: ${scores.torchByTorch[i]} vs ${scores.tfjsByTfjs[i]}`);
    }

    // transformers' tokenizer makes the engine's ids and boundaries for every row (chat template included).
    const { tokenizer } = loadPretrained(model);
    const rows = pairRows(conversational).flatMap((r) => [{ prompt: r.prompt, completion: r.chosen }, { prompt: r.prompt, completion: r.rejected }]);
    const rowsFile = writeJsonl(join(dir, 'rows.jsonl'), rows);
    const script = 'import json, sys\nfrom transformers import AutoTokenizer\nfrom dap_train.render import tokenize_row\n' +
      't = AutoTokenizer.from_pretrained(sys.argv[1])\nfor line in open(sys.argv[2]):\n    r = json.loads(line)\n' +
      '    p, c = tokenize_row(t, r["prompt"], r["completion"], int(sys.argv[3]), None, 64, 32)\n    print(json.dumps([p, c]))\n';
    const tok = await startPython(['-c', script, model, rowsFile, String(tokenizer.eosId)]).done;
    assert.equal(tok.code, 0, tok.stderr);
    const pyIds = tok.stdout.trim().split('\n').map((l) => JSON.parse(l));
    rows.forEach((r, i) => {
      const t = tokenizeRow(tokenizer, r as never, { maxLength: 64, maxPromptLength: 32 });
      assert.deepEqual(pyIds[i], [t.promptIds, t.completionIds], `row ${i}`);
    });
  });
}
