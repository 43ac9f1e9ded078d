/**
 * End-to-end in a real VS Code (code-server) of the loop's commands, driven as a user does (explorer and
 * Runs-view context menus, the loss panel's button, quick picks, input boxes, notification buttons,
 * annotator keys), on two tiny DPO runs trained before the editor starts (built-in engine, the first 40
 * sample items, 20% of prompts held out). The tests run in order on one editor:
 * 1. *Generate Responses…* on a prompts file (explorer): K responses of one run's model, recorded with their
 *    model and settings, opened in the annotator; the same command again skips every prompt done and leaves
 *    the file byte for byte as it was; with a second model, blind pairs whose model names stay hidden.
 * 2. *Compare Outputs (Blind)* of two runs selected in the Runs view: greedy pairs of both models on the
 *    second run's held-out prompts, opened in the annotator with the names hidden; *Judge with the
 *    Verifier* (palette) fills the review panel's Models table without annotators.
 * 3. *Next Round* (Runs view) → a progress notification with the prompts done and the ETA, K candidates of
 *    the run's model on its training prompts, opened for ranking; the notification's *Judge with the
 *    Verifier* judges every candidate item.
 * 4. *Next round* (loss panel) → candidates ranked by hand in the annotator → *Train Next Round*: a run from
 *    the parent's model on those judgments, finished in its loss panel; the Runs view links the rounds both
 *    ways.
 * 5. *Evaluate against the Starting Model* on both rounds, every held-out pair judged: both rows show their
 *    win rate over their start side by side (and the counts in their details), without a manual refresh,
 *    and the review panel's Models table shows the same per annotator and overall; the Wilson interval is
 *    checked against a float64 reference computed here from the log on disk.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Locator } from 'playwright-core';
import { initBackend } from '../../src/engine/backend';
import { runTraining } from '../../src/train/pipeline';
import { ROOT, startVsCode, type VsCodeSession } from './harness';

const ANNOTATOR = 'eve';
const folder = realpathSync(mkdtempSync(join(tmpdir(), 'dap-e2e-rounds-')));
const runsDir = join(folder, '.dap', 'runs');
const taskFile = join(folder, 'arith.tasks.jsonl');
const promptsFile = join(folder, 'questions.prompts.jsonl');
const ALPHA = 'run-alpha';
const BETA = 'run-beta';
const alphaDir = join(runsDir, ALPHA);
const betaDir = join(runsDir, BETA);
const ROUND1 = `${ALPHA}-round1`;
const round1Dir = join(runsDir, ROUND1);

interface Line {
  id: string;
  prompt: unknown;
  responses: { text: string; model: string; generation: Record<string, unknown> }[];
  meta?: Record<string, unknown>;
}
interface Event {
  item: string;
  annotator: string;
  kind: string;
  shown: number[];
  choice?: string;
}
function jsonLines<T>(file: string): T[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T) : [];
}
const evalPromptsOf = (runDir: string) => (JSON.parse(readFileSync(join(runDir, 'split.json'), 'utf8')) as { evalPrompts: unknown[] }).evalPrompts;

// The first 40 sample items and their judgments: enough pairs for a DPO step, few prompts to generate for.
const sampleLines = readFileSync(join(ROOT, 'media/samples/arith.tasks.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 40);
const sampleIds = new Set(sampleLines.map((l) => (JSON.parse(l) as { id: string }).id));
writeFileSync(taskFile, sampleLines.join('\n') + '\n');
writeFileSync(join(folder, 'arith.annotations.jsonl'),
  readFileSync(join(ROOT, 'media/samples/arith.annotations.jsonl'), 'utf8').split('\n').filter((l) => l.trim() && sampleIds.has((JSON.parse(l) as Event).item)).join('\n') + '\n');
const PROMPTS = [
  { id: 'q1', prompt: 'What is 2 + 3?', meta: { task: 'add', answer: '5' } },
  { id: 'q2', prompt: 'Reverse \'tap\'.', meta: { task: 'reverse', answer: 'pat' } },
  { id: 'q3', prompt: 'What is 4 * 2?', meta: { task: 'mul', answer: '8' } },
];
writeFileSync(promptsFile, PROMPTS.map((p) => JSON.stringify(p)).join('\n') + '\n');

let vscode: VsCodeSession | undefined;
before(async () => {
  await initBackend('wasm');
  for (const [runId, seed] of [[ALPHA, 1], [BETA, 2]] as const) {
    const outcome = await runTraining({
      data: taskFile, method: 'dpo', out: join(folder, '.dap'), runId, backend: 'wasm', seed, evalFraction: 0.2,
      builtin: { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 }, sftEpochs: 1, maxSteps: 2, batchSize: 8,
    });
    assert.equal(outcome.status, 'finished', outcome.error);
  }
  vscode = await startVsCode({ folder, settings: { 'dapStudio.train.backend': 'wasm', 'dapStudio.annotator': ANNOTATOR } });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Runs `fn`; on failure saves the screenshot and logs under .vscode-test/artifacts/NAME. */
async function withArtifacts(name: string, fn: (vs: VsCodeSession) => Promise<void>): Promise<void> {
  const vs = vscode!;
  try {
    await fn(vs);
  } catch (e) {
    const dir = await vs.saveArtifacts(name);
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
}

/** The row of a tree (explorer, Runs view) whose label is exactly `label`. */
function row(vs: VsCodeSession, label: string): Locator {
  return vs.page.locator('.monaco-list-row').filter({ has: vs.page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
}

/** Right-clicks `target` and runs the context-menu entry `entry` (hover, then Enter: the menu ignores a
 * mouse-up that comes right after it opened). */
async function contextMenu(vs: VsCodeSession, target: Locator, entry: string): Promise<void> {
  await target.waitFor({ state: 'visible', timeout: 30_000 });
  const item = vs.page.locator('.monaco-menu .action-item', { hasText: entry }).first();
  // The extension's menu entries appear once the workbench has read its manifest: reopen until they do.
  const deadline = Date.now() + 60_000;
  for (;;) {
    await target.click({ button: 'right' });
    await vs.page.locator('.monaco-menu').first().waitFor({ state: 'visible', timeout: 10_000 });
    if (await item.isVisible()) break;
    await vs.page.keyboard.press('Escape');
    if (Date.now() > deadline) throw new Error(`no "${entry}" in the context menu`);
    await vs.page.waitForTimeout(1000);
  }
  await item.hover();
  await vs.page.keyboard.press('Enter');
  await item.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Makes the Runs-view row `runId` the only selected one (its click opens its loss panel: closed again). */
async function selectOnly(vs: VsCodeSession, runId: string): Promise<void> {
  await row(vs, runId).click();
  await vs.webviewFrame('[data-testid="summary"]', 60_000);
  await vs.runCommand('View: Close All Editors');
}

/** Picks the quick-pick row labelled `label` (typing filters the list) once the quick pick titled `title` shows. */
async function pick(vs: VsCodeSession, title: RegExp, label: string): Promise<void> {
  await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 30_000 });
  const input = vs.page.locator('.quick-input-widget input');
  await input.fill(label);
  await vs.page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await input.press('Enter');
}

/** Answers the input box titled `title` with `value` (undefined: accepts its default). */
async function answer(vs: VsCodeSession, title: RegExp, value?: string): Promise<void> {
  await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 30_000 });
  const input = vs.page.locator('.quick-input-widget input');
  if (value !== undefined) await input.fill(value);
  await input.press('Enter');
}

/** The annotator frame showing `file` (its first unjudged item), once it is open. */
async function annotatorOn(vs: VsCodeSession, firstItem: string, timeoutMs = 120_000): Promise<Frame> {
  return vs.webviewFrame(`[data-testid="annotator-root"][data-item-id="${firstItem}"]`, timeoutMs);
}

/** Presses `1` (A is better) on `count` items in turn, waiting for each save to move on. */
async function judgeA(vs: VsCodeSession, frame: Frame, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = await frame.getAttribute('[data-testid="annotator-root"]', 'data-item-id');
    await vs.pressInWebview(frame, ['1']);
    if (i < count - 1) await frame.waitForFunction((was) => document.querySelector('[data-testid="annotator-root"]')?.getAttribute('data-item-id') !== was, id, { timeout: 30_000 });
  }
}

async function until<T>(what: string, read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Asserts the annotator shows no model name of `names` before the item is judged. */
async function assertBlind(frame: Frame, names: string[]): Promise<void> {
  await frame.waitForSelector('[data-testid="pair-view"]', { timeout: 30_000 });
  assert.equal(await frame.locator('[data-testid="model-name"]').count(), 0, 'no model-name element before judging');
  const html = await frame.content();
  for (const n of names) assert.ok(!html.includes(n), `${n} is not in the annotator's page before judging`);
}

test('Generate Responses… on a prompts file: K responses per prompt in the annotator; a rerun rewrites nothing; two models: blind pairs', { timeout: 150_000 }, () =>
  withArtifacts('loop-rounds-generate', async (vs) => {
    await vs.runCommand('View: Show Explorer');
    const file = row(vs, 'questions.prompts.jsonl');
    const generated = join(folder, 'questions.prompts.generated.tasks.jsonl');
    const generateK = async () => {
      await contextMenu(vs, file, 'Generate Responses…');
      await pick(vs, /Generate with which model/, ALPHA);
      await pick(vs, /second model/, 'No second model');
      await answer(vs, /Responses per prompt/, '2');
      await answer(vs, /temperature/); // default 1
    };
    await generateK();
    const frame = await annotatorOn(vs, 'q1');
    const lines = jsonLines<Line>(generated);
    assert.deepEqual(lines.map((l) => l.id), ['q1', 'q2', 'q3']);
    assert.deepEqual(lines.map((l) => l.meta), PROMPTS.map((p) => p.meta), 'each item keeps its prompt\'s meta');
    for (const l of lines) {
      assert.deepEqual(l.responses.map((r) => r.model), [ALPHA, ALPHA]);
      assert.deepEqual(l.responses.map((r) => r.generation), [0, 1].map((sample) => ({ temperature: 1, topP: 1, maxNewTokens: 64, seed: 0, sample, executor: 'tfjs' })));
    }
    assert.equal(await frame.locator('[data-testid="pair-view"]').count(), 1, 'two responses: a pair to judge');

    // The same command again: every prompt is done, nothing is rewritten (same bytes, same mtime).
    const before = { text: readFileSync(generated, 'utf8'), mtime: statSync(generated).mtimeMs };
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('View: Show Explorer');
    await generateK();
    await annotatorOn(vs, 'q1');
    assert.equal(readFileSync(generated, 'utf8'), before.text);
    assert.equal(statSync(generated).mtimeMs, before.mtime);

    // Two models: one greedy pair per prompt, A = the first model picked; the annotator hides the names.
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('View: Show Explorer');
    await contextMenu(vs, file, 'Generate Responses…');
    await pick(vs, /Generate with which model/, ALPHA);
    await pick(vs, /second model/, BETA);
    await answer(vs, /Pairs per prompt/); // default 1
    await answer(vs, /temperature/); // default 0 for a comparison
    const blind = await annotatorOn(vs, 'q1');
    const pairs = jsonLines<Line>(join(folder, 'questions.prompts.compare.tasks.jsonl'));
    assert.deepEqual(pairs.map((l) => l.id), ['q1', 'q2', 'q3']);
    for (const l of pairs) {
      assert.deepEqual(l.responses.map((r) => r.model), [ALPHA, BETA]);
      assert.ok(l.responses.every((r) => r.generation.temperature === 0));
    }
    await assertBlind(blind, [ALPHA, BETA]);
  }));

test('Compare Outputs of two runs selected in the Runs view: a blind comparison on the held-out prompts', { timeout: 120_000 }, () =>
  withArtifacts('loop-rounds-compare', async (vs) => {
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('View: Show DAP Studio');
    await row(vs, ALPHA).click();
    await row(vs, BETA).click({ modifiers: ['ControlOrMeta'] });
    await contextMenu(vs, row(vs, BETA), 'Compare Outputs (Blind)');
    const file = join(betaDir, 'eval', `vs-${ALPHA}.tasks.jsonl`);
    const held = evalPromptsOf(betaDir);
    const lines = await until(`${file} is written`, () => jsonLines<Line>(file), (l) => l.length === held.length, 120_000);
    const frame = await annotatorOn(vs, lines[0].id);
    assert.deepEqual(lines.map((l) => JSON.stringify(l.prompt)).sort(), held.map((p) => JSON.stringify(p)).sort(), `one pair per held-out prompt of ${BETA}`);
    for (const l of lines) {
      assert.deepEqual(l.responses.map((r) => r.model), [ALPHA, BETA]);
      assert.equal(l.responses[0].generation.temperature, 0, 'greedy');
    }
    await assertBlind(frame, [ALPHA, BETA]);

    // The verifier fills the review panel's Models table without annotators (from the palette, on the open comparison).
    await vs.runCommand('DAP: Judge with the Verifier');
    assert.match(await vs.waitForNotification(/the verifier judged \d+ items of vs-run-alpha/), new RegExp(`judged ${lines.length} items`));
    const v = outcomesOfB(file, 'verifier');
    assert.equal(v.n, lines.length);
    const table = await modelsTable(vs);
    assert.deepEqual([table.a, table.b], [ALPHA, BETA]);
    assert.deepEqual(Object.keys(table.rows).sort(), ['overall (per item)', 'verifier'], 'no human row');
    for (const key of ['overall (per item)', 'verifier']) assert.deepEqual(table.rows[key].slice(3), [v.wins, v.losses, v.ties, v.bothBad].map(String), key);
  }));

/** B's outcome counts in `annotator`'s pair judgments of a comparison, from its log on disk (B = responses[1]; choice a = shown[0]). */
function outcomesOfB(tasks: string, annotator: string): { wins: number; losses: number; ties: number; bothBad: number; n: number } {
  const events = jsonLines<Event>(tasks.replace(/\.tasks\.jsonl$/, '.annotations.jsonl')).filter((e) => e.annotator === annotator);
  const c = { wins: 0, losses: 0, ties: 0, bothBad: 0, n: events.length };
  for (const e of events) {
    if (e.kind !== 'pair') throw new Error(`a ${e.kind} event in a comparison's log`);
    if (e.choice === 'both_bad') c.bothBad++;
    else if (e.choice === 'tie') c.ties++;
    else if ((e.choice === 'a' ? e.shown[0] : e.shown[1]) === 1) c.wins++;
    else c.losses++;
  }
  return c;
}

/** Opens the review panel on the active annotator's file and returns its Models table rows (annotator → cells). */
async function modelsTable(vs: VsCodeSession): Promise<{ a: string; b: string; rows: Record<string, string[]> }> {
  await vs.runCommand('DAP: Review Likely Annotation Errors');
  const frame = await vs.webviewFrame('[data-testid="models-section"]', 60_000);
  const rows: Record<string, string[]> = {};
  for (const r of await frame.locator('[data-testid="models-row"]').all()) {
    rows[(await r.getAttribute('data-annotator')) ?? ''] = (await r.locator('td').allTextContents()).map((t) => t.trim());
  }
  return { a: (await frame.textContent('[data-testid="model-a"]')) ?? '', b: (await frame.textContent('[data-testid="model-b"]')) ?? '', rows };
}

/** Ids of a run's training prompts: the data's prompts, each once (a repeated prompt keeps its first item's id), less the held-out ones. */
function trainingIds(runDir: string): string[] {
  const held = new Set(evalPromptsOf(runDir).map((p) => JSON.stringify(p)));
  const seen = new Set<string>();
  return sampleLines.map((l) => JSON.parse(l) as { id: string; prompt: unknown }).flatMap((t) => {
    const key = JSON.stringify(t.prompt);
    if (held.has(key) || seen.has(key)) return [];
    seen.add(key);
    return [t.id];
  });
}

/** Asserts `cands` holds `k` sampled candidates of `runId` per training prompt of `runDir`. */
function assertCandidates(cands: string, runDir: string, runId: string, k: number): Line[] {
  const lines = jsonLines<Line>(cands);
  assert.deepEqual(lines.map((l) => l.id), trainingIds(runDir), 'one item per training prompt, none held out');
  for (const l of lines) {
    assert.deepEqual(l.responses.map((r) => r.model), Array(k).fill(runId));
    assert.ok(l.responses.every((r) => r.generation.temperature === 1), 'sampled');
  }
  return lines;
}

test('Next Round from the Runs view: progress with ETA, K candidates on the training prompts, opened for ranking; the notification\'s verifier judges them all', { timeout: 120_000 }, () =>
  withArtifacts('loop-rounds-verifier', async (vs) => {
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('View: Show DAP Studio');
    await selectOnly(vs, BETA);
    await contextMenu(vs, row(vs, BETA), 'Next Round: Generate Candidates');
    await answer(vs, /Candidates per training prompt/); // default 4
    // While it generates: a progress notification with the prompts done and the ETA (after each batch of 16 prompts).
    const total = trainingIds(betaDir).length;
    const toasts = new Set<string>();
    let opened = false;
    const annotator = annotatorOn(vs, trainingIds(betaDir)[0]).finally(() => (opened = true));
    while (!opened) {
      for (const t of await vs.page.locator('.notifications-toasts .notification-list-item').allTextContents()) toasts.add(t);
      await vs.page.waitForTimeout(50);
    }
    const frame = await annotator;
    const progress = new RegExp(`Next round: 4 candidates per prompt from ${BETA}: 16/${total} prompts, ETA \\d+ s`);
    assert.ok([...toasts].some((t) => progress.test(t)), `a progress notification with the ETA among ${JSON.stringify([...toasts])}`);
    const cands = join(betaDir, 'next-round', 'candidates.tasks.jsonl');
    const lines = assertCandidates(cands, betaDir, BETA, 4);
    await frame.waitForSelector('[data-testid="rank-view"]', { timeout: 30_000 }); // four candidates: a ranking
    // The notification offers the verifier and the next round; the verifier judges every candidate item.
    const toast = vs.page.locator('.notifications-toasts .notification-list-item', { hasText: /rank or pick the candidates/ });
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    await toast.locator('.monaco-button', { hasText: 'Judge with the Verifier' }).click();
    assert.match(await vs.waitForNotification(/the verifier judged \d+ items of candidates/), new RegExp(`judged ${lines.length} items`));
    const log = join(betaDir, 'next-round', 'candidates.annotations.jsonl');
    assert.deepEqual(jsonLines<Event>(log).map((e) => [e.annotator, e.item]), lines.map((l) => ['verifier', l.id]));
  }));

test('Next Round from the loss panel, ranked by hand, then Train Next Round: from the run\'s model, linked both ways in the Runs view', { timeout: 150_000 }, () =>
  withArtifacts('loop-rounds-train', async (vs) => {
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('View: Show DAP Studio');
    await row(vs, ALPHA).click();
    const lossPanel = await vs.webviewFrame('[data-testid="summary"][data-status="finished"] [data-testid="next-round"]', 60_000);
    await lossPanel.click('[data-testid="next-round"]');
    await answer(vs, /Candidates per training prompt/, '2');
    const cands = join(alphaDir, 'next-round', 'candidates.tasks.jsonl');
    const frame = await annotatorOn(vs, trainingIds(alphaDir)[0]);
    const lines = assertCandidates(cands, alphaDir, ALPHA, 2);
    await judgeA(vs, frame, 8);
    const log = join(alphaDir, 'next-round', 'candidates.annotations.jsonl');
    const mine = await until('eight hand judgments on disk', () => jsonLines<Event>(log), (e) => e.length === 8);
    assert.deepEqual(mine.map((e) => [e.annotator, e.item]), lines.slice(0, 8).map((l) => [ANNOTATOR, l.id]));

    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('View: Show DAP Studio');
    await contextMenu(vs, row(vs, ALPHA), 'Train Next Round');
    await vs.webviewFrame(`[data-testid="summary"][data-status="finished"]`, 120_000);
    const config = JSON.parse(readFileSync(join(round1Dir, 'config.json'), 'utf8')) as { model: string; data: string; method: string };
    assert.deepEqual([config.model, config.data, config.method], [join(alphaDir, 'model'), cands, 'dpo']);
    assert.deepEqual(JSON.parse(readFileSync(join(round1Dir, 'round.json'), 'utf8')), { parent: alphaDir, round: 1, candidates: cands });
    assert.ok(existsSync(join(round1Dir, 'model', 'config.json')), 'the next round\'s model');

    // Linked both ways in the Runs view.
    await vs.runCommand('View: Close All Editors');
    await until('the next round names its parent', () => description(vs, ROUND1), (d) => d.includes(`round 1 ← ${ALPHA}`));
    await row(vs, ALPHA).locator('.monaco-tl-twistie').click();
    await row(vs, 'next round').filter({ hasText: ROUND1 }).waitFor({ state: 'visible', timeout: 30_000 });
    await row(vs, ALPHA).locator('.monaco-tl-twistie').click();
  }));

/** The description of the Runs-view row `runId`. */
async function description(vs: VsCodeSession, runId: string): Promise<string> {
  return (await row(vs, runId).locator('.label-description').textContent()) ?? '';
}

/** The Wilson 95% interval, in float64 (reference for the Runs view's numbers). */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const c = p + (z * z) / (2 * n);
  const h = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [(c - h) / (1 + (z * z) / n), (c + h) / (1 + (z * z) / n)];
}

test('both rounds evaluated against their start and judged: their win rates side by side in the Runs view', { timeout: 150_000 }, () =>
  withArtifacts('loop-rounds-winrates', async (vs) => {
    assert.ok(existsSync(join(round1Dir, 'model', 'config.json')), 'the previous test trained the next round');
    const held = evalPromptsOf(alphaDir).length;
    assert.equal(evalPromptsOf(round1Dir).length > 0, true);
    for (const [runId, dir] of [[ALPHA, alphaDir], [ROUND1, round1Dir]] as const) {
      await vs.runCommand('View: Close All Editors');
      await vs.runCommand('View: Show DAP Studio');
      await selectOnly(vs, runId);
      await contextMenu(vs, row(vs, runId), 'Evaluate against the Starting Model');
      const file = join(dir, 'eval', 'vs-start.tasks.jsonl');
      const lines = await until(`${file} is written`, () => jsonLines<Line>(file), (l) => l.length === held, 120_000);
      assert.deepEqual(lines[0].responses.map((r) => r.model), [runId === ALPHA ? `${ALPHA}/sft-model` : ALPHA, runId], 'A = the starting model, B = the run');
      const frame = await annotatorOn(vs, lines[0].id);
      await judgeA(vs, frame, held);
      await until('every held-out pair judged on disk', () => outcomesOfB(file, ANNOTATOR).n, (n) => n === held);
      // The review panel's Models table of this comparison: the same numbers, per annotator and overall.
      const { wins, losses, n } = outcomesOfB(file, ANNOTATOR);
      const [low, high] = wilson(wins, n);
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      const table = await modelsTable(vs);
      assert.deepEqual([table.a, table.b], lines[0].responses.map((r) => r.model));
      for (const key of ['overall (per item)', ANNOTATOR]) {
        assert.deepEqual(table.rows[key].slice(1), [pct(wins / n), `${pct(low)} – ${pct(high)}`, String(wins), String(losses), '0', '0'], key);
      }
    }
    await vs.runCommand('View: Close All Editors');
    for (const [runId, dir] of [[ALPHA, alphaDir], [ROUND1, round1Dir]] as const) {
      const { wins, n } = outcomesOfB(join(dir, 'eval', 'vs-start.tasks.jsonl'), ANNOTATOR);
      const [low, high] = wilson(wins, n);
      const expected = `vs start ${((100 * wins) / n).toFixed(0)}% [${(100 * low).toFixed(0)}–${(100 * high).toFixed(0)}%]`;
      await until(`${runId}'s row shows its win rate over its start`, () => description(vs, runId), (d) => d.includes(expected));
      // Its details spell the counts out.
      await row(vs, runId).locator('.monaco-tl-twistie').click();
      const detail = row(vs, 'win rate vs start');
      await detail.waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await detail.locator('.label-description').textContent(),
        `${((100 * wins) / n).toFixed(1)}% [${(100 * low).toFixed(1)}–${(100 * high).toFixed(1)}%], ${wins} wins, ${n - wins} losses, 0 ties, 0 both bad (${n}/${n} judged)`);
      await row(vs, runId).locator('.monaco-tl-twistie').click();
      await detail.waitFor({ state: 'hidden', timeout: 30_000 });
    }
  }));
