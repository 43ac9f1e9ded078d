/**
 * Blind model comparison in the real annotator: the host controller (src/host/annotator/controller.ts, on a
 * real task file and log) is wired to the built webview in headless Chromium. Model names never reach the
 * webview — not in a message, the DOM or the persisted webview state — until this annotator has judged the
 * item; then each card shows the model that wrote it, matched to the shuffled display order.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotatorController } from '../../src/host/annotator/controller';
import { openLog, openTasks } from '../../src/host/annotator/coreAdapter';
import { annotationLogPath } from '../../src/host/annotator/logPath';
import type { AnnotatorHostToWebview, ItemView } from '../../webview/protocol/annotator';
import { closeBrowser, openAnnotatorPage } from './annotatorPage';

after(closeBrowser);

const A = 'model-alpha-7f3e';
const B = 'run-beta-91c2';

test('model names reach the webview only after the item is judged, and then match the cards', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-blind-'));
  const taskFile = join(dir, 'cmp.tasks.jsonl');
  writeFileSync(taskFile, [1, 2, 3].map((i) => JSON.stringify({ id: `q${i}`, prompt: `What is ${i} + ${i}?`,
    responses: [{ text: `alpha says ${i}`, model: A }, { text: `beta says ${2 * i}`, model: B }] })).join('\n') + '\n');
  const log = await openLog(annotationLogPath(taskFile, undefined));
  const delivered: AnnotatorHostToWebview[] = [];
  const pending: AnnotatorHostToWebview[] = [];
  const controller = new AnnotatorController({ tasks: openTasks(taskFile).source, sink: log.sink, existing: log.events, annotator: 'ann', taskFile, post: (m) => pending.push(m) });
  const page = await openAnnotatorPage();
  await page.fromHost({ type: 'config', config: { annotator: 'ann', confirmWithEnter: false, fileName: 'cmp.tasks.jsonl', logFileName: 'cmp.annotations.jsonl' } });
  /** Feeds what the webview posted to the controller and what the controller answered back, until quiet. */
  const pump = async () => {
    for (let round = 0; round < 10; round++) {
      const posted = await page.messages();
      await page.clearMessages();
      for (const m of posted) await controller.handle(m);
      const answers = pending.splice(0);
      for (const m of answers) {
        delivered.push(m);
        await page.fromHost(m);
      }
      if (posted.length === 0 && answers.length === 0) return;
    }
  };
  const leaks = async () => {
    const dom = await page.page.content();
    const state = JSON.stringify((await page.savedState()) ?? null);
    const messages = JSON.stringify(delivered);
    return [A, B].filter((name) => dom.includes(name) || state.includes(name) || messages.includes(name));
  };
  const current = async () => page.page.getAttribute('[data-testid="annotator-root"]', 'data-item-id');

  await pump(); // ready → the first item
  assert.equal(await current(), 'q1');
  assert.deepEqual(await leaks(), [], 'nothing about the models before judging');
  assert.equal(await page.page.locator('[data-testid="model-name"]').count(), 0);

  await page.page.keyboard.press('2'); // B (shown second) is better; saved, then the next item
  await pump();
  assert.equal(await current(), 'q2');
  assert.deepEqual(await leaks(), [], 'judging q1 and moving on reveals nothing about q2');
  assert.equal(JSON.parse(readFileSync(annotationLogPath(taskFile, undefined), 'utf8').trim()).choice, 'b');

  await page.page.keyboard.press('k'); // back to the judged q1: now its models are shown
  await pump();
  assert.equal(await current(), 'q1');
  const item = delivered.filter((m): m is Extract<AnnotatorHostToWebview, { type: 'item' }> => m.type === 'item').pop()?.item as ItemView;
  const names = await page.page.locator('[data-testid="model-name"]').allTextContents();
  assert.deepEqual(names, item.shown.map((r) => [A, B][r]), 'each card names its own model, in the shown order');
  const cardA = await page.page.locator('[data-testid="response-A"]').textContent();
  assert.ok(cardA?.includes(item.shown[0] === 0 ? 'alpha says 1' : 'beta says 2') && cardA.includes([A, B][item.shown[0]]));

  await page.page.keyboard.press('z'); // undo: unjudged again, names hidden again
  await pump();
  assert.equal(await page.page.locator('[data-testid="model-name"]').count(), 0);
  await page.close();
});
