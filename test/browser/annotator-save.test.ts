/**
 * The annotator webview when the host cannot save (built bundle, headless Chromium): a judgment answered
 * `notSaved` shows "not saved" with the reason and a Retry button, is kept in the persisted view state
 * (it survives the webview being recreated), and Retry posts the same judgment again — after bringing its
 * item back when another one is shown; a flag that was not saved is shown unflagged again; a `saved`
 * answer clears it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ItemView } from '../../webview/protocol/annotator';
import { closeBrowser, openAnnotatorPage } from './annotatorPage';

const progress = { done: 0, total: 2, indexing: false };
const item = (id: string, index: number): ItemView => ({
  index, id, line: index + 1, prompt: `Prompt ${id}`, responses: [{ text: 'one' }, { text: 'two' }], shown: [1, 0], others: 0, disagreed: false, flagged: false,
});
const FULL = '/w/tasks.annotations.jsonl: not saved: the disk is full (ENOSPC); free some space and try again';

after(closeBrowser);

describe('annotator webview: saves that fail', { timeout: 60_000 }, () => {
  test('notSaved keeps the judgment for Retry (also across a reload); Retry posts it again for its item', async () => {
    const p = await openAnnotatorPage();
    try {
      await p.fromHost({ type: 'config', config: { annotator: 't', confirmWithEnter: false, fileName: 'tasks.jsonl', logFileName: 'tasks.annotations.jsonl' } });
      await p.fromHost({ type: 'item', item: item('q1', 0), progress, filter: 'all' });
      await p.page.keyboard.press('2');
      const judge = await p.waitForMessage('judge');
      assert.deepEqual(judge.judgment, { kind: 'pair', shown: [1, 0], choice: 'b' });
      assert.equal(await p.page.locator('[data-testid="retry-save"]').count(), 0);
      await p.fromHost({ type: 'notSaved', requestId: judge.requestId, itemId: 'q1', message: FULL });
      const status = p.page.locator('[data-testid="save-status"]');
      assert.equal(await status.getAttribute('data-state'), 'error');
      assert.match((await status.textContent()) ?? '', /not saved .*the disk is full \(ENOSPC\)/);
      assert.equal((await p.page.locator('[data-testid="retry-save"]').textContent())?.trim(), 'Retry 1 unsaved');
      assert.deepEqual((await p.savedState())?.unsaved, [judge], 'kept in the persisted state');

      // A flag that fails is shown as it was.
      await p.page.keyboard.press('f');
      const flag = await p.waitForMessage('flag');
      assert.equal(await p.page.getAttribute('[data-testid="flag-toggle"]', 'aria-pressed'), 'true');
      await p.fromHost({ type: 'notSaved', requestId: flag.requestId, itemId: 'q1', message: FULL });
      assert.equal(await p.page.getAttribute('[data-testid="flag-toggle"]', 'aria-pressed'), 'false');
      assert.equal((await p.page.locator('[data-testid="retry-save"]').textContent())?.trim(), 'Retry 2 unsaved');

      // The webview is recreated (hidden and shown, or the window reloaded) while another item is on screen.
      await p.recreate();
      const ready = await p.waitForMessage('ready');
      assert.deepEqual(ready.restore?.unsaved, [judge, flag]);
      await p.fromHost({ type: 'item', item: item('q2', 1), progress, filter: 'all' });
      assert.equal((await p.page.locator('[data-testid="retry-save"]').textContent())?.trim(), 'Retry 2 unsaved');
      await p.clearMessages();
      await p.page.click('[data-testid="retry-save"]');
      const again = await p.messages();
      assert.deepEqual(again.map((m) => m.type), ['navigate', 'judge', 'flag']);
      assert.deepEqual(again[0], { type: 'navigate', requestId: again[0].type === 'navigate' ? again[0].requestId : 0, target: { kind: 'id', id: 'q1' } });
      const [, judge2, flag2] = again;
      assert.ok(judge2.type === 'judge' && flag2.type === 'flag');
      assert.deepEqual({ ...judge2, requestId: judge.requestId }, judge, 'the same judgment, under a new request id');
      assert.notEqual(judge2.requestId, judge.requestId);
      assert.deepEqual({ ...flag2, requestId: flag.requestId }, flag);
      assert.equal(await p.page.locator('[data-testid="retry-save"]').count(), 0);
      assert.equal((await p.savedState())?.unsaved, undefined);

      // The judgment saves this time; the flag fails again and stays for the next Retry.
      await p.fromHost({ type: 'saved', requestId: judge2.requestId, itemId: 'q1', kind: 'pair', progress: { ...progress, done: 1 } });
      await p.fromHost({ type: 'notSaved', requestId: flag2.requestId, itemId: 'q1', message: FULL });
      assert.equal((await p.page.locator('[data-testid="retry-save"]').textContent())?.trim(), 'Retry 1 unsaved');
      assert.deepEqual((await p.savedState())?.unsaved, [flag2]);
    } finally {
      await p.close();
    }
  });
});
