/**
 * `dap logps --model DIR|builtin --data FILE.jsonl`: prints, per input row, the summed and mean log-prob
 * of the completion(s) under the model and the number of completion tokens, one JSON line per row.
 * Pair rows {"prompt","chosen","rejected"} print {"chosen":{...},"rejected":{...}}; completion rows
 * {"prompt","completion"} print {"completion":{...}}. Chosen and rejected share one forward pass. Pair rows
 * may be any TRL form the data core reads (implicit-prompt rows are split at their shared prefix, as TRL
 * does); bad rows are errors `file:line: field: problem`.
 */
import { existsSync } from 'node:fs';
import { initBackend, describeBackend } from '../../engine/backend';
import { openModel } from '../../engine/checkpoint';
import { loadLoraAdapter } from '../../engine/lora';
import { disposeBatch, logpsToHost, padRows, sequenceLogps, tokenizeRow } from '../../engine/logps';
import { formatIssue, issueError, typeName } from '../../core/issues';
import { jsonErrorMessage, NOT_UTF8_MESSAGE, oversizeIssue, readJsonlLines, type JsonlLine } from '../../core/jsonl';
import { parseTaskLine } from '../../core/tasks';
import { ownPairRow } from '../../train/data/labelledFiles';
import type { ChatMessage, Prompt } from '../../core/types';
import { backendFlag, integerFlag, parseCommandArgs, UsageError, type Command } from '../command';

const usage = `Usage: dap logps --model DIR|builtin --data FILE.jsonl [options]

Scores completions: for each row prints one JSON line with {"sum","mean","tokens"} per completion,
the log-prob summed / averaged over completion tokens only (prompt and padding excluded; EOS included
for plain-text rows).
  --model DIR|builtin     Hugging Face folder (config.json, model.safetensors, tokenizer.json) or
                          "builtin" (the untrained built-in byte-level model, seeded with --seed)
  --data FILE.jsonl       rows {"prompt","chosen","rejected"} (or implicit-prompt {"chosen","rejected"})
                          → {"chosen":{..},"rejected":{..}}
                          or {"prompt","completion"} → {"completion":{..}}; "id" is echoed when present
  --adapter DIR           apply a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors),
                          e.g. a training run's RUN/adapter; --lora DIR is the same
  --batch-size N          rows per forward pass (default 8)
  --max-length N          prompt + completion tokens (default: the model's context, at most 1024)
  --max-prompt-length N   prompt tokens kept, from the end (default half of --max-length, at most 512)
  --backend NAME          auto | tensorflow | webgpu | wasm | cpu (default auto)
  --seed N                seed of the built-in model (default 0)`;

type Row = { id?: unknown; line: number; prompt: Prompt; pair: boolean; completions: (string | ChatMessage[])[] };

/** A line's error as `file:line: field: problem` (the data core's issue format). */
const rowError = (file: string, line: number, field: string, message: string) => new Error(formatIssue(issueError(file, line, field, message)));

/**
 * Parses one row. Pair rows are read by the data core like a task line (standard, conversational or
 * implicit-prompt TRL pairs), so their prompt and completions are split exactly as training splits them.
 */
function parseRow(l: JsonlLine, file: string): Row {
  const oversize = oversizeIssue(l, file);
  if (oversize) throw new Error(formatIssue(oversize));
  let v: unknown;
  try {
    v = JSON.parse(l.text);
  } catch (e) {
    throw rowError(file, l.line, 'line', l.utf8 ? jsonErrorMessage(e) : NOT_UTF8_MESSAGE);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw rowError(file, l.line, 'line', `expected a JSON object, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  if ('chosen' in o || 'rejected' in o) {
    const parsed = parseTaskLine(l.text, file, l.line, l.offset, l.utf8);
    const errors = parsed.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0 || !parsed.item) throw new Error(errors.map(formatIssue).join('\n'));
    const pair = ownPairRow(parsed.item);
    return { id: o.id, line: l.line, prompt: pair.prompt, pair: true, completions: [pair.chosen, pair.rejected] };
  }
  const isText = (x: unknown) => typeof x === 'string' || (Array.isArray(x) && x.every((m) => m && typeof m.role === 'string' && typeof m.content === 'string'));
  if (!isText(o.prompt)) throw rowError(file, l.line, 'prompt', `expected a string or a list of {role, content} messages, got ${typeName(o.prompt)}`);
  if (!isText(o.completion)) throw rowError(file, l.line, 'completion', 'expected "completion" (a string or a list of messages), or "chosen" and "rejected"');
  return { id: o.id, line: l.line, prompt: o.prompt as Prompt, pair: false, completions: [o.completion as string] };
}

function intOption(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer (got "${value}")`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    model: { type: 'string' }, data: { type: 'string' }, lora: { type: 'string' }, adapter: { type: 'string' }, 'batch-size': { type: 'string' },
    'max-length': { type: 'string' }, 'max-prompt-length': { type: 'string' }, backend: { type: 'string' }, seed: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.model) throw new UsageError('--model is required');
  if (!values.data) throw new UsageError('--data is required');
  if (!existsSync(values.data)) throw new Error(`${values.data}: no such file`);
  const batchSize = intOption(values['batch-size'], 'batch-size', 8);
  const seed = integerFlag('seed', values.seed, 0);
  const backend = await initBackend(backendFlag(values.backend) ?? 'auto');
  process.stderr.write(`dap logps: backend ${describeBackend(backend)}\n`);
  const { model, tokenizer } = openModel(values.model, seed);
  try {
    if (values.lora && values.adapter && values.lora !== values.adapter) throw new UsageError('--adapter and --lora name the same option: give one');
    const adapter = values.adapter ?? values.lora;
    if (adapter) loadLoraAdapter(model, adapter);
    const maxLength = intOption(values['max-length'], 'max-length', Math.min(model.config.maxPositions, 1024));
    if (maxLength > model.config.maxPositions) throw new UsageError(`--max-length ${maxLength} exceeds the model's context of ${model.config.maxPositions}`);
    // Half the length, at most 512 (TRL's 1024/512; training's rule), so long prompts leave room for the completion.
    const maxPromptLength = intOption(values['max-prompt-length'], 'max-prompt-length', Math.max(1, Math.min(512, Math.floor(maxLength / 2))));
    let pending: Row[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      // Rows are tokenised one by one so that a failing one (e.g. the chat template rejects it) is named file:line.
      const tokenized = pending.flatMap((r) => r.completions.map((c, i) => {
        try {
          return tokenizeRow(tokenizer, { prompt: r.prompt, completion: c, rowCompletions: r.completions }, { maxLength, maxPromptLength });
        } catch (e) {
          throw rowError(values.data!, r.line, r.pair ? (i === 0 ? 'chosen' : 'rejected') : 'completion', (e as Error).message);
        }
      }));
      const batch = padRows(tokenized, tokenizer.padId);
      const l = sequenceLogps(model, batch);
      const host = await logpsToHost(l);
      l.sum.dispose();
      l.mean.dispose();
      l.count.dispose();
      disposeBatch(batch);
      let k = 0;
      for (const r of pending) {
        const out: Record<string, unknown> = r.id !== undefined ? { id: r.id } : {};
        if (r.pair) {
          out.chosen = host[k++];
          out.rejected = host[k++];
        } else {
          out.completion = host[k++];
        }
        process.stdout.write(JSON.stringify(out) + '\n');
      }
      pending = [];
    };
    for await (const l of readJsonlLines(values.data)) {
      if (l.text.trim() === '') continue;
      pending.push(parseRow(l, values.data));
      if (pending.length >= batchSize) await flush();
    }
    await flush();
  } finally {
    model.dispose();
  }
  return 0;
}

export const command: Command = { name: 'logps', summary: 'Print completion log-probs of a model for each row of a JSONL file', usage, run };
