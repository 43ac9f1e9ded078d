/**
 * Component tests of the annotator webview (built bundle, headless Chromium, VS Code's CSP): keys post
 * the right judgments, rankings by keys and by typed order, undo, Markdown sanitization, word diff,
 * chat transcripts, error items, confirm-with-Enter and state restore.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnnotatorConfig, AnnotatorHostToWebview, ItemView, Progress } from '../../webview/protocol/annotator';
import { closeBrowser, openAnnotatorPage, type AnnotatorPage } from './annotatorPage';

const config: AnnotatorConfig = { annotator: 'tester', confirmWithEnter: false, fileName: 'tasks.jsonl', logFileName: 'tasks.annotations.jsonl' };
const progress: Progress = { done: 3, total: 10, indexing: false };

function pairItem(over: Partial<ItemView> = {}): ItemView {
  return {
    index: 4,
    id: 'p1',
    line: 5,
    prompt: 'What is 2 + 2?',
    responses: [{ text: 'It is 4.' }, { text: 'It is 5.' }],
    shown: [1, 0],
    others: 0,
    disagreed: false,
    flagged: false,
    ...over,
  };
}

function rankItem(over: Partial<ItemView> = {}): ItemView {
  return {
    index: 7,
    id: 'r1',
    line: 8,
    prompt: 'Reverse "abc".',
    responses: [{ text: 'cba' }, { text: 'The reverse is cba.' }, { text: 'abc' }],
    shown: [2, 0, 1],
    others: 0,
    disagreed: false,
    flagged: false,
    ...over,
  };
}

let page: AnnotatorPage;
let shownCount = 0;

/** Shows `item` (under a fresh id, so the view resets) in the shared page and clears recorded messages. */
async function open(item: ItemView, cfg: AnnotatorConfig = config): Promise<AnnotatorPage> {
  page ??= await openAnnotatorPage();
  const p = page;
  await p.clearMessages();
  await p.fromHost({ type: 'config', config: cfg });
  const id = `${item.id}#${++shownCount}`;
  await p.fromHost({ type: 'item', item: { ...item, id }, progress, filter: 'all' });
  await p.page.waitForSelector(`[data-testid="annotator-root"][data-item-id="${id}"]`);
  return p;
}

/** The id the current test's item was shown under. */
const currentId = () => page.page.getAttribute('[data-testid="annotator-root"]', 'data-item-id');

after(async () => {
  await page?.close();
  await closeBrowser();
});

describe('annotator webview', { timeout: 60_000 }, () => {
  test('posts ready, then keys 1 2 3 4 a b post the right pair choice with the shown order', async () => {
    const item = pairItem();
    const p = await open(item);
    try {
      assert.ok(page, 'page opened');
      const expected: [string, string][] = [['1', 'a'], ['2', 'b'], ['3', 'tie'], ['4', 'both_bad'], ['a', 'a'], ['b', 'b']];
      for (const [i, [key, choice]] of expected.entries()) {
        await p.page.keyboard.press(key);
        const judge = await p.waitForMessage('judge', i + 1);
        assert.equal(judge.itemId, await currentId());
        assert.deepEqual(judge.judgment, { kind: 'pair', shown: [1, 0], choice });
        assert.equal(judge.advance, true);
        assert.ok(judge.ms >= 0 && judge.ms < 60_000);
      }
      // pending → saved
      assert.equal(await p.page.getAttribute('[data-testid="save-status"]', 'data-state'), 'pending');
      const last = await p.waitForMessage('judge', 6);
      await p.fromHost({ type: 'saved', requestId: last.requestId, itemId: last.itemId, kind: 'pair', progress: { ...progress, done: 4 } });
      assert.equal(await p.page.getAttribute('[data-testid="save-status"]', 'data-state'), 'saved');
      assert.match(await p.page.innerText('[data-testid="progress-text"]'), /4 \/ 10 done/);
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('the note (key n) is sent with the judgment; keys typed in it are not shortcuts', async () => {
    const p = await open(pairItem());
    try {
      await p.page.keyboard.press('n');
      await p.page.keyboard.type('a1 both fine');
      await p.page.keyboard.press('Escape');
      assert.equal((await p.messages()).filter((m) => m.type === 'judge').length, 0);
      await p.page.keyboard.press('2');
      const judge = await p.waitForMessage('judge');
      assert.equal(judge.note, 'a1 both fine');
      assert.deepEqual(judge.judgment, { kind: 'pair', shown: [1, 0], choice: 'b' });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('confirmWithEnter: a choice only selects, Enter confirms', async () => {
    const p = await open(pairItem(), { ...config, confirmWithEnter: true });
    try {
      await p.page.keyboard.press('2');
      await p.page.waitForTimeout(50);
      assert.equal((await p.messages()).filter((m) => m.type === 'judge').length, 0);
      await p.page.keyboard.press('Enter');
      const judge = await p.waitForMessage('judge');
      assert.deepEqual(judge.judgment, { kind: 'pair', shown: [1, 0], choice: 'b' });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('rank by typed order 312 + Enter maps display labels through shown', async () => {
    const item = rankItem();
    const p = await open(item);
    try {
      assert.equal(await p.page.getAttribute('[data-testid="annotator-root"]', 'data-mode'), 'rank');
      for (const k of '312') await p.page.keyboard.press(k);
      assert.match(await p.page.innerText('[data-testid="typed-order"]'), /312/);
      await p.page.keyboard.press('Enter');
      const judge = await p.waitForMessage('judge');
      const expected = [...'312'].map((label) => [item.shown[Number(label) - 1]]);
      assert.deepEqual(judge.judgment, { kind: 'rank', shown: item.shown, ranking: expected });
      assert.deepEqual(expected, [[1], [2], [0]]);
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('typed order with a tie (3=12) and an invalid order (11) that is refused', async () => {
    const item = rankItem();
    const p = await open(item);
    try {
      for (const k of '11') await p.page.keyboard.press(k); // the second 1 is refused: "1 is typed twice"
      await p.page.keyboard.press('Enter'); // "1" alone: not every card placed
      assert.match(await p.page.innerText('[data-testid="typed-error"]'), /give all 3 cards/);
      assert.equal((await p.messages()).filter((m) => m.type === 'judge').length, 0);
      await p.page.keyboard.press('Escape');
      for (const k of '3=12') await p.page.keyboard.press(k);
      await p.page.keyboard.press('Enter');
      const judge = await p.waitForMessage('judge');
      assert.deepEqual(judge.judgment, { kind: 'rank', shown: item.shown, ranking: [[item.shown[2], item.shown[0]], [item.shown[1]]] });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('rank by keys: ↓ selects, Alt+↑ moves, = ties with the group above, Enter saves', async () => {
    const item = rankItem(); // initial order = shown = [2, 0, 1], response 2 selected
    const p = await open(item);
    try {
      await p.page.keyboard.press('ArrowDown'); // select response 0
      await p.page.keyboard.press('Alt+ArrowUp'); // [[0],[2],[1]]
      const cards = await p.page.$$eval('[data-testid^="rank-card-"]', (els) => els.map((e) => Number(e.getAttribute('data-response-index'))));
      assert.deepEqual(cards, [0, 2, 1]);
      await p.page.keyboard.press('ArrowDown'); // select response 2
      await p.page.keyboard.press('='); // [[0,2],[1]]
      assert.equal(await p.page.locator('[data-testid="rank-group"]').count(), 2);
      await p.page.keyboard.press('Enter');
      const judge = await p.waitForMessage('judge');
      assert.deepEqual(judge.judgment, { kind: 'rank', shown: item.shown, ranking: [[0, 2], [1]] });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('m switches a pair to rank mode; navigation keys, undo and flag post their intents', async () => {
    const p = await open(pairItem());
    try {
      await p.page.keyboard.press('m');
      assert.equal(await p.page.getAttribute('[data-testid="annotator-root"]', 'data-mode'), 'rank');
      await p.page.keyboard.press('2');
      await p.page.keyboard.press('1');
      await p.page.keyboard.press('Enter');
      const judge = await p.waitForMessage('judge');
      assert.deepEqual(judge.judgment, { kind: 'rank', shown: [1, 0], ranking: [[0], [1]] });
      const keys: [string, string][] = [['j', 'next'], ['ArrowRight', 'next'], ['k', 'prev'], ['ArrowLeft', 'prev'], ['u', 'nextUnannotated'], ['s', 'skip']];
      for (const [i, [key, kind]] of keys.entries()) {
        await p.page.keyboard.press(key);
        const nav = await p.waitForMessage('navigate', i + 1);
        assert.deepEqual(nav.target, { kind });
      }
      await p.page.keyboard.press('z');
      assert.equal((await p.waitForMessage('undo')).itemId, await currentId());
      await p.page.keyboard.press('Control+z');
      await p.waitForMessage('undo', 2);
      await p.page.keyboard.press('f');
      const flag = await p.waitForMessage('flag');
      assert.deepEqual([flag.itemId, flag.flagged], [await currentId(), true]);
      await p.page.keyboard.press('g');
      await p.page.keyboard.type('#12');
      await p.page.keyboard.press('Enter');
      assert.deepEqual((await p.waitForMessage('navigate', keys.length + 1)).target, { kind: 'index', index: 11 });
      await p.page.keyboard.press('g');
      await p.page.keyboard.type('item-42');
      await p.page.keyboard.press('Enter');
      assert.deepEqual((await p.waitForMessage('navigate', keys.length + 2)).target, { kind: 'id', id: 'item-42' });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('Markdown is rendered and sanitized: raw HTML, event handlers and javascript: links never run', async () => {
    const evil = [
      '**bold** and `code`',
      '<img src=x onerror="window.__pwned = 1">',
      '<script>window.__pwned = 2</script>',
      '[click](javascript:window.__pwned=3)',
      '```python\ndef f(x):\n    return x + 1\n```',
    ].join('\n\n');
    const p = await open(pairItem({ responses: [{ text: evil }, { text: 'plain' }], shown: [0, 1] }));
    try {
      await p.page.waitForTimeout(100);
      assert.equal(await p.page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
      const a = p.page.locator('[data-testid="response-A"]');
      assert.equal(await a.locator('strong').innerText(), 'bold');
      assert.equal(await a.locator('img').count(), 0);
      assert.equal(await a.locator('script').count(), 0);
      assert.ok((await a.innerText()).includes('<script>window.__pwned = 2</script>'), 'raw HTML is shown as text');
      assert.ok((await a.locator('pre.hljs .hljs-keyword').count()) > 0, 'fenced code is highlighted');
      const hrefs = await a.locator('a').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
      assert.ok(hrefs.every((h) => !h || !h.startsWith('javascript:')), `hrefs: ${hrefs}`);
      if (await a.locator('a').count()) await a.locator('a').first().click({ timeout: 1000 });
      assert.equal(await p.page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
      // raw text toggle (r) shows the source verbatim
      await p.page.keyboard.press('r');
      assert.ok((await a.locator('[data-testid="raw-body"]').innerText()).startsWith('**bold** and `code`'));
      assert.deepEqual(await p.cspViolations(), []);
      assert.equal((await p.savedState())?.raw, true);
      await p.page.keyboard.press('r');
      assert.equal((await p.savedState())?.raw, false);
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('word diff (d) marks the words that differ on each side', async () => {
    const p = await open(pairItem({ responses: [{ text: 'the cat sat on the mat' }, { text: 'the dog sat on a mat' }], shown: [0, 1] }));
    try {
      await p.page.keyboard.press('d');
      const removed = await p.page.locator('[data-testid="response-A"] [data-diff="removed"]').allInnerTexts();
      const added = await p.page.locator('[data-testid="response-B"] [data-diff="added"]').allInnerTexts();
      assert.deepEqual(removed, ['cat', 'the']);
      assert.deepEqual(added, ['dog', 'a']);
      await p.page.keyboard.press('d');
      assert.equal(await p.page.locator('[data-diff]').count(), 0);
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('a conversational prompt renders as a chat transcript', async () => {
    const prompt = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'What is *3 + 4*?' },
      { role: 'assistant', content: 'Do you want the working?' },
      { role: 'user', content: 'No.' },
    ];
    const p = await open(pairItem({ prompt }));
    try {
      const roles = await p.page.$$eval('[data-testid="chat-message"]', (els) => els.map((e) => e.getAttribute('data-role')));
      assert.deepEqual(roles, ['system', 'user', 'assistant', 'user']);
      assert.equal(await p.page.locator('[data-testid="chat-message"] em').first().innerText(), '3 + 4');
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('a malformed line shows an error item with file:line: field: problem', async () => {
    const p = await open(pairItem());
    try {
      const msg: AnnotatorHostToWebview = {
        type: 'item',
        item: null,
        problem: { index: 2, file: '/tmp/t.jsonl', line: 3, field: 'responses[1].text', message: 'expected a string' },
        progress,
        filter: 'all',
      };
      await p.fromHost(msg);
      assert.match(await p.page.innerText('[data-testid="error-item"]'), /\/tmp\/t\.jsonl:3: responses\[1\]\.text: expected a string/);
      await p.page.keyboard.press('j');
      assert.deepEqual((await p.waitForMessage('navigate')).target, { kind: 'next' });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('buttons post the same intents as keys (choice, save ranking, next, flag)', async () => {
    const p = await open(pairItem());
    try {
      await p.page.click('[data-testid="choice-b"]');
      assert.deepEqual((await p.waitForMessage('judge')).judgment, { kind: 'pair', shown: [1, 0], choice: 'b' });
      await p.page.click('[data-testid="next-button"]');
      assert.deepEqual((await p.waitForMessage('navigate')).target, { kind: 'next' });
      await p.page.click('[data-testid="flag-toggle"]');
      assert.equal((await p.waitForMessage('flag')).flagged, true);
      await open(rankItem());
      await p.page.click('[data-testid="submit-rank"]');
      assert.deepEqual((await p.waitForMessage('judge')).judgment, { kind: 'rank', shown: [2, 0, 1], ranking: [[2], [0], [1]] });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('drag and drop reorders (top third: before) and ties (middle)', async () => {
    const item = rankItem(); // cards 1,2,3 = responses 2,0,1
    const p = await open(item);
    try {
      const card = (label: number) => p.page.locator(`[data-testid="rank-card-${label}"]`);
      await card(3).dragTo(card(1), { targetPosition: { x: 40, y: 3 } });
      const order = () => p.page.$$eval('[data-testid^="rank-card-"]', (els) => els.map((e) => Number(e.getAttribute('data-response-index'))));
      assert.deepEqual(await order(), [1, 2, 0]);
      const box = await card(1).boundingBox();
      assert.ok(box);
      await card(2).dragTo(card(1), { targetPosition: { x: 40, y: box.height / 2 } });
      assert.equal(await p.page.locator('[data-testid="rank-group"]').count(), 2);
      await p.page.keyboard.press('Enter');
      assert.deepEqual((await p.waitForMessage('judge')).judgment, { kind: 'rank', shown: item.shown, ranking: [[1], [2, 0]] });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('the filter dropdown posts setFilter', async () => {
    const p = await open(pairItem());
    try {
      await p.page.click('[data-testid="filter-select"]');
      await p.page.locator('[data-testid="filter-select"] li[role="option"]', { hasText: 'unannotated' }).click();
      const msg = await p.waitForMessage('setFilter');
      assert.equal(msg.filter, 'unannotated');
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });

  test('state survives the webview being recreated (hide/restore, reload)', async () => {
    const p = await open(pairItem());
    try {
      await p.page.keyboard.press('d');
      const id = await currentId();
      await p.recreate();
      const ready = await p.waitForMessage('ready');
      assert.deepEqual(ready.restore, { index: 4, itemId: id, filter: 'all', raw: false, diff: true });
    } finally {
      await p.page.keyboard.press('Escape');
    }
  });
});
