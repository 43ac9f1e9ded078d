/**
 * The event schema (src/train/runs/events.schema.json) is the one declaration of the training protocol both
 * executors are checked against: this test keeps it equal to the TypeScript types of src/train/runs/events.ts
 * (every event interface's fields and which are optional, read with the TypeScript compiler), checks
 * that the validator rejects what it must, and validates real tfjs events (the recorded runs and a fresh
 * tiny run) against it. The python tier validates the torch executor's events with the same validator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { EVENT_SCHEMA, eventSchemaErrors } from '../../src/train/runs/eventSchema';
import { runTraining } from '../../src/train/pipeline';
import type { TrainEvent } from '../../src/train/runs/events';
import { repoRoot, tinyModelFixture, toyPairs, writeJsonl } from './train-fixtures';

type Fields = Map<string, boolean>; // name → optional

/** Members of every interface in events.ts (with `extends` resolved), by interface name. */
function interfaces(): Map<string, { fields: Fields; nested: Map<string, Fields> }> {
  const file = join(repoRoot, 'src/train/runs/events.ts');
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const raw = new Map<string, ts.InterfaceDeclaration>();
  sf.forEachChild((n) => { if (ts.isInterfaceDeclaration(n)) raw.set(n.name.text, n); });
  const membersOf = (members: ts.NodeArray<ts.TypeElement>): Fields => {
    const f: Fields = new Map();
    for (const m of members) if (ts.isPropertySignature(m)) f.set((m.name as ts.Identifier).text, !!m.questionToken);
    return f;
  };
  const out = new Map<string, { fields: Fields; nested: Map<string, Fields> }>();
  for (const [name, decl] of raw) {
    const fields = membersOf(decl.members);
    for (const h of decl.heritageClauses ?? []) for (const t of h.types) {
      const base = raw.get(t.expression.getText(sf));
      if (base) for (const [k, v] of membersOf(base.members)) fields.set(k, v);
    }
    const nested = new Map<string, Fields>();
    for (const m of decl.members) {
      if (ts.isPropertySignature(m) && m.type && ts.isTypeLiteralNode(m.type)) nested.set((m.name as ts.Identifier).text, membersOf(m.type.members));
    }
    out.set(name, { fields, nested });
  }
  return out;
}

function schemaFields(s: Record<string, unknown>): Fields {
  const req = new Set((s.required ?? []) as string[]);
  return new Map(Object.keys(s.properties as object).map((k) => [k, !req.has(k)]));
}

const sorted = (f: Fields) => [...f].sort(([a], [b]) => a.localeCompare(b));

test('events.schema.json declares exactly the fields (and optional fields) of the event types in events.ts', () => {
  const types = interfaces();
  const defs = EVENT_SCHEMA.$defs as Record<string, Record<string, unknown>>;
  const names: Record<string, string> = { started: 'StartedEvent', step: 'StepEvent', eval: 'EvalEvent', checkpoint: 'CheckpointEvent', log: 'LogEvent', finished: 'FinishedEvent', failed: 'FailedEvent' };
  const union = readFileSync(join(repoRoot, 'src/train/runs/events.ts'), 'utf8').match(/export type TrainEvent = ([^;]+);/)![1].split('|').map((s) => s.trim());
  assert.deepEqual(union.sort(), Object.values(names).sort(), 'the schema has one definition per member of TrainEvent');
  for (const [type, iface] of Object.entries(names)) {
    const t = types.get(iface)!;
    assert.deepEqual(sorted(schemaFields(defs[type])), sorted(t.fields), `${type} ⇔ ${iface}`);
    const props = defs[type].properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(props.type, { const: type });
    for (const [field, nested] of t.nested) assert.deepEqual(sorted(schemaFields(props[field])), sorted(nested), `${type}.${field} ⇔ ${iface}.${field}`);
  }
  // Named types of event fields: the started event's stage plan.
  assert.deepEqual(sorted(schemaFields(defs.stagePlan)), sorted(types.get('StagePlan')!.fields), 'stagePlan ⇔ StagePlan');
  assert.deepEqual((defs.started.properties as Record<string, unknown>).stages, { type: 'array', items: { $ref: '#/$defs/stagePlan' } });
});

test('the validator accepts a valid event and names each problem of invalid ones', () => {
  const ok = { ts: '2026-01-01T00:00:00.000Z', type: 'step', stage: 'dpo', step: 1, totalSteps: 5, metrics: { loss: 0.69, grad_norm: null } };
  assert.deepEqual(eventSchemaErrors(ok), []);
  assert.deepEqual(eventSchemaErrors({ ...ok, step: 1.5 }), ['event.step: expected integer, got number']);
  assert.deepEqual(eventSchemaErrors({ ...ok, metrics: { loss: '0.7' } }), ['event.metrics.loss: expected number or null, got string']);
  assert.deepEqual(eventSchemaErrors({ ...ok, extra: 1 }), ['event.extra: unknown field']);
  assert.deepEqual(eventSchemaErrors({ ts: 'x', type: 'checkpoint', stage: 's', step: 1, path: 'p', reason: 'later' }),
    ['event.reason: expected one of "periodic", "cancel", "final", "stage", got "later"']);
  assert.deepEqual(eventSchemaErrors({ ts: 'x', type: 'failed' }), ['event.error: missing']);
  assert.deepEqual(eventSchemaErrors({ ts: 'x', type: 'done' }), ['event: type: expected one of the event types, got "done"']);
});

test('every event of the recorded runs and of a fresh tfjs run follows the schema', async () => {
  const recorded = ['test/fixtures/run-events.jsonl', 'test/fixtures/lora-run-events.jsonl'].flatMap((f) =>
    readFileSync(join(repoRoot, f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown));
  const fx = await tinyModelFixture('schema', 9, 32);
  const events: TrainEvent[] = [];
  const data = writeJsonl(join(fx.dir, 'pairs.jsonl'), toyPairs(8));
  const r = await runTraining({ data, model: fx.modelDir, epochs: 1, batchSize: 4, checkpointEvery: 1, out: fx.dir, backend: 'wasm' }, { onEvent: (e) => events.push(e) });
  assert.equal(r.status, 'finished', r.error);
  const failed = await runTraining({ data: join(fx.dir, 'missing.jsonl'), out: fx.dir, backend: 'wasm' }, { onEvent: (e) => events.push(e) });
  assert.equal(failed.status, 'failed');
  const types = new Set(events.map((e) => e.type));
  for (const t of ['started', 'step', 'eval', 'checkpoint', 'log', 'finished', 'failed']) assert.ok(types.has(t as never), `the runs emit a ${t} event`);
  for (const [i, e] of [...recorded, ...events].entries()) assert.deepEqual(eventSchemaErrors(e), [], `event ${i}: ${JSON.stringify(e).slice(0, 200)}`);
});
