/**
 * Component tests of the annotator webview (built bundle, headless Chromium, VS Code's CSP) for what a
 * team meets: other annotators' judgments shown in the viewer's own labels once the host sends them; the
 * typed rank order previewed on the cards, its errors shown under the cards (never in the toolbar) and
 * cleared by the next valid key, with the documented examples saving what the help says.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnnotatorConfig, ItemView, Progress } from '../../webview/protocol/annotator';
import { closeBrowser, openAnnotatorPage, type AnnotatorPage } from './annotatorPage';

const config: AnnotatorConfig = { annotator: 'carol', confirmWithEnter: false, fileName: 'team.jsonl', logFileName: 'team.annotations.jsonl' };
const progress: Progress = { done: 1, total: 9, indexing: false };

function rankItem(id: string): ItemView {
  return {
    index: 2, id, line: 3, prompt: 'Order these.', shown: [2, 0, 1], others: 0, disagreed: false, flagged: false,
    responses: [{ text: 'first response' }, { text: 'second response' }, { text: 'third response' }],
  };
}

let page: AnnotatorPage | undefined;
let counter = 0;
async function show(item: ItemView): Promise<AnnotatorPage> {
  page ??= await openAnnotatorPage({ width: 900, height: 700 });
  await page.clearMessages();
  await page.fromHost({ type: 'config', config });
  const id = `${item.id}#${++counter}`;
  await page.fromHost({ type: 'item', item: { ...item, id }, progress, filter: 'all' });
  await page.page.waitForSelector(`[data-testid="annotator-root"][data-item-id="${id}"]`);
  return page;
}
const height = (p: AnnotatorPage, sel: string) => p.page.evaluate((s) => (document.querySelector(s) as HTMLElement).getBoundingClientRect().height, sel);
const cardRank = (p: AnnotatorPage, card: number) => p.page.locator(`[data-testid="rank-card-${card}"] [data-testid="typed-rank"]`).allTextContents();

after(async () => {
  await page?.close();
  await closeBrowser();
});

describe('annotator for a team', { timeout: 120_000 }, () => {
  test("others' judgments: none shown when the host withholds them; in the viewer's labels when sent", async () => {
    const pair: ItemView = {
      index: 0, id: 'o1', line: 1, prompt: 'p', shown: [1, 0], responses: [{ text: 'zero' }, { text: 'one' }],
      others: 0, disagreed: false, flagged: false,
    };
    let p = await show(pair);
    assert.equal(await p.page.locator('[data-testid="others"]').count(), 0, 'nothing about others before you judge');
    const mine = { item: 'o1', annotator: 'carol', ranking: [[0], [1]], bothBad: false, ts: '', kind: 'pair' as const };
    p = await show({
      ...pair, mine, others: 2, disagreed: true,
      otherJudgments: [
        { annotator: 'alice', ranking: [[1], [0]], bothBad: false }, // response 1 = carol's A
        { annotator: 'bob', ranking: [[0, 1]], bothBad: false },
      ],
    });
    assert.match(await p.page.innerText('[data-testid="others"]'), /^2 other annotators · disagreed:/);
    assert.deepEqual(await p.page.locator('[data-testid="other-judgment"]').allTextContents(), ['A', 'tie']);
    p = await show({ ...rankItem('o2'), mine: { ...mine, item: 'o2', kind: 'rank', ranking: [[0], [1], [2]] }, others: 1, otherJudgments: [{ annotator: 'alice', ranking: [[1], [0, 2]], bothBad: false }] });
    // shown [2, 0, 1]: response 1 is card 3, responses 0 and 2 are cards 2 and 1.
    assert.deepEqual(await p.page.locator('[data-testid="other-judgment"]').allTextContents(), ['3 > 2 = 1']);
  });

  test('typed order: a refused key says why under the cards, the next valid keys clear it, the cards preview the ranks', async () => {
    const item = rankItem('t1');
    const p = await show(item);
    const toolbar = await height(p, '.toolbar');
    const line = await height(p, '[data-testid="typed-order"]');
    await p.page.keyboard.press('4');
    assert.equal(await p.page.innerText('[data-testid="typed-error"]'), '4 is not a card number (1–3)');
    assert.equal(await p.page.getAttribute('[data-testid="save-status"]', 'data-state'), 'idle', 'not a save error in the toolbar');
    await p.page.keyboard.press('3');
    assert.equal(await p.page.locator('[data-testid="typed-error"]').count(), 0, 'cleared by the next valid key');
    assert.deepEqual(await cardRank(p, 3), ['→ #1']);
    assert.deepEqual(await cardRank(p, 1), []);
    await p.page.keyboard.press('3'); // typed twice
    assert.equal(await p.page.innerText('[data-testid="typed-error"]'), '3: 3 is typed twice');
    for (const k of '12') await p.page.keyboard.press(k);
    assert.equal(await p.page.locator('[data-testid="typed-error"]').count(), 0);
    assert.deepEqual([await cardRank(p, 3), await cardRank(p, 1), await cardRank(p, 2)], [['→ #1'], ['→ #2'], ['→ #3']]);
    assert.match(await p.page.innerText('[data-testid="typed-order"]'), /Enter saves it/);
    assert.equal(await height(p, '.toolbar'), toolbar, 'the toolbar did not move');
    assert.equal(await height(p, '[data-testid="typed-order"]'), line, 'the line under the cards did not grow');
    await p.page.keyboard.press('Enter');
    const judge = await p.waitForMessage('judge');
    assert.deepEqual(judge.judgment, { kind: 'rank', shown: item.shown, ranking: [[1], [2], [0]] });
  });

  test('the documented examples: 3=12 ties cards 3 and 1 first, 1=2=3 ties all; Backspace takes a key back', async () => {
    const item = rankItem('t2');
    let p = await show(item);
    for (const k of '3=12') await p.page.keyboard.press(k);
    assert.deepEqual([await cardRank(p, 3), await cardRank(p, 1), await cardRank(p, 2)], [['→ #1'], ['→ #1'], ['→ #2']]);
    await p.page.keyboard.press('Enter');
    let judge = await p.waitForMessage('judge');
    assert.deepEqual(judge.judgment, { kind: 'rank', shown: item.shown, ranking: [[item.shown[2], item.shown[0]], [item.shown[1]]] });

    p = await show(rankItem('t3'));
    for (const k of '1=2=4') await p.page.keyboard.press(k);
    assert.match(await p.page.innerText('[data-testid="typed-error"]'), /4 is not a card number/);
    await p.page.keyboard.press('Backspace'); // takes back the "=" after 2
    assert.equal(await p.page.locator('[data-testid="typed-error"]').count(), 0);
    await p.page.keyboard.press('Enter');
    assert.match(await p.page.innerText('[data-testid="typed-error"]'), /give all 3 cards/);
    for (const k of '=3') await p.page.keyboard.press(k);
    await p.page.keyboard.press('Enter');
    judge = await p.waitForMessage('judge');
    assert.deepEqual(judge.judgment, { kind: 'rank', shown: item.shown, ranking: [[2, 0, 1]] });
  });

  test('right-to-left text is laid out right to left (dir="auto"), each paragraph by its own text; code stays left to right', async () => {
    const hebrew = 'שלום עולם, זו תשובה בעברית.';
    const p = await show({
      index: 0, id: 'rtl', line: 1, prompt: 'ما هو ٢ + ٢؟', shown: [0, 1], others: 0, disagreed: false, flagged: false,
      responses: [{ text: `${hebrew}\n\nEnglish paragraph after it.\n\n\`\`\`\nconst x = 1;\n\`\`\`` }, { text: 'Plain English.' }],
    });
    const dirOf = (sel: string) => p.page.evaluate((s) => { const e = document.querySelector(s) as HTMLElement; return [e.getAttribute('dir'), e.matches(':dir(rtl)') ? 'rtl' : 'ltr']; }, sel);
    assert.deepEqual(await dirOf('[data-testid="response-A"] [data-testid="markdown-body"]'), ['auto', 'rtl']);
    assert.deepEqual(await dirOf('[data-testid="response-B"] [data-testid="markdown-body"]'), ['auto', 'ltr']);
    assert.deepEqual(await dirOf('[data-testid="prompt"] [data-testid="markdown-body"]'), ['auto', 'rtl']);
    // Laid out: the Hebrew paragraph hugs the right edge, the English one the left, code the left.
    const edges = await p.page.evaluate(() => {
      const body = document.querySelector('[data-testid="response-A"] [data-testid="markdown-body"]') as HTMLElement;
      const box = body.getBoundingClientRect();
      return [...body.querySelectorAll('p, pre code')].map((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const r = range.getBoundingClientRect();
        return [Math.round(r.left - box.left), Math.round(box.right - r.right)];
      });
    });
    const [he, en, code] = edges;
    assert.ok(he[1] < 30 && he[0] > 100, `Hebrew paragraph at the right: ${JSON.stringify(edges)}`);
    assert.ok(en[0] < 30 && en[1] > 100, `English paragraph at the left: ${JSON.stringify(edges)}`);
    assert.ok(code[0] < 40, `code at the left: ${JSON.stringify(edges)}`);
  });

  test('find (/): Enter posts a search for the next item, Shift+Enter the previous; typing in the box is no shortcut', async () => {
    const p = await show(rankItem('f1'));
    await p.page.keyboard.press('/');
    await p.page.waitForSelector('[data-testid="search-input"]');
    await p.page.keyboard.type('paris 1');
    await p.page.keyboard.press('Enter');
    await p.page.keyboard.press('Shift+Enter');
    const posted = (await p.messages()).filter((m) => m.type !== 'ready');
    assert.deepEqual(posted.map((m) => (m.type === 'search' ? [m.type, m.query, m.direction] : [m.type])), [['search', 'paris 1', 1], ['search', 'paris 1', -1]]);
    await p.page.click('[data-testid="search-next"]');
    assert.equal((await p.messages()).filter((m) => m.type === 'search').length, 3);
    await p.page.keyboard.press('Escape');
    assert.equal(await p.page.locator('[data-testid="search-input"]').count(), 0);
    await p.page.click('[data-testid="search-button"]');
    assert.equal(await p.page.inputValue('[data-testid="search-input"]'), 'paris 1', 'the query stays for the next find');
    await p.page.click('[data-testid="search-close"]');
  });

  test('guidelines: a collapsible pane with the rendered, sanitized Markdown; the toolbar button toggles it (kept in the view state) or creates them', async () => {
    const p = await show(rankItem('g1'));
    await p.fromHost({ type: 'guidelines', fileName: 'team.guidelines.md', markdown: null });
    assert.equal(await p.page.locator('[data-testid="guidelines"]').count(), 0);
    assert.equal((await p.page.innerText('[data-testid="guidelines-toggle"]')).trim(), 'Add guidelines…');
    await p.page.click('[data-testid="guidelines-toggle"]');
    await p.waitForMessage('createGuidelines');
    await p.fromHost({ type: 'guidelines', fileName: 'team.guidelines.md', markdown: '# Rules\n\nPrefer **correct** answers. <img src=x onerror="window.__pwned=1">' });
    await p.page.waitForSelector('[data-testid="guidelines"]');
    assert.equal(await p.page.innerText('[data-testid="guidelines-body"] h1'), 'Rules');
    assert.equal(await p.page.innerText('[data-testid="guidelines-body"] strong'), 'correct');
    assert.equal(await p.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'raw HTML does not run');
    assert.equal(await p.page.getAttribute('[data-testid="guidelines-toggle"]', 'aria-pressed'), 'true');
    await p.page.click('[data-testid="guidelines-toggle"]');
    assert.equal(await p.page.locator('[data-testid="guidelines"]').count(), 0, 'collapsed');
    assert.equal((await p.savedState())?.guidelinesOpen, false, 'kept with the view state');
    await p.page.click('[data-testid="guidelines-toggle"]');
    await p.page.waitForSelector('[data-testid="guidelines"]');
    await p.page.click('[data-testid="guidelines-close"]');
    assert.equal(await p.page.locator('[data-testid="guidelines"]').count(), 0);
  });

  test('meta: chips under the prompt; clicking one filters, the toolbar shows the filter and clears it', async () => {
    const p = await show({ ...rankItem('m1'), meta: { task: 'add', source: 'forum' } });
    assert.deepEqual(await p.page.locator('[data-testid="meta-chip"]').allInnerTexts(), ['task add', 'source forum']);
    await p.page.click('[data-testid="meta-chip"][data-key="task"]');
    const set = await p.waitForMessage('setMetaFilter');
    assert.deepEqual(set.metaFilter, { key: 'task', value: 'add' });
    await p.fromHost({ type: 'item', item: { ...rankItem('m2'), id: 'm2#meta', meta: { task: 'add' } }, progress, filter: 'all', metaFilter: { key: 'task', value: 'add' } });
    await p.page.waitForSelector('[data-testid="meta-filter"]');
    assert.match(await p.page.innerText('[data-testid="meta-filter"]'), /task = add/);
    assert.deepEqual((await p.savedState())?.metaFilter, { key: 'task', value: 'add' });
    await p.clearMessages();
    await p.page.click('[data-testid="meta-filter-clear"]');
    assert.equal((await p.waitForMessage('setMetaFilter')).metaFilter, null);
  });

  test('an empty task file: every toolbar button but help and guidelines is disabled', async () => {
    page ??= await openAnnotatorPage({ width: 900, height: 700 });
    const p = page;
    await p.fromHost({ type: 'item', item: null, notice: 'The task file has no items.', progress: { done: 0, total: 0, indexing: false }, filter: 'all' });
    await p.page.waitForSelector('[data-testid="notice"]');
    const buttons = await p.page.locator('.toolbar button').evaluateAll((els) => els.map((e) => [e.getAttribute('data-testid'), (e as HTMLButtonElement).disabled]));
    assert.ok(buttons.length >= 11, JSON.stringify(buttons));
    // Help and the guidelines (reading or writing them needs no item) stay; nothing else has anything to act on.
    for (const [id, disabled] of buttons) assert.equal(disabled, id !== 'help-button' && id !== 'guidelines-toggle', `${id} disabled: ${disabled}`);
    // An item again: enabled again.
    await show(rankItem('back'));
    assert.equal(await p.page.locator('[data-testid="next-button"]').isDisabled(), false);
    assert.equal(await p.page.locator('[data-testid="train-dpo"]').isDisabled(), false);
  });

  test('a long save error is cut in its slot: the toolbar keeps its height and its buttons stay put', async () => {
    const p = await show(rankItem('t4'));
    await p.page.setViewportSize({ width: 760, height: 700 });
    const before = await height(p, '.toolbar');
    const train = await p.page.evaluate(() => (document.querySelector('[data-testid="train-dpo"]') as HTMLElement).getBoundingClientRect().x);
    await p.fromHost({ type: 'error', message: 'could not save: ' + 'a very long reason '.repeat(12) });
    assert.equal(await p.page.getAttribute('[data-testid="save-status"]', 'data-state'), 'error');
    assert.equal(await height(p, '.toolbar'), before);
    assert.equal(await p.page.evaluate(() => (document.querySelector('[data-testid="train-dpo"]') as HTMLElement).getBoundingClientRect().x), train);
    assert.match((await p.page.getAttribute('[data-testid="save-status"]', 'title')) ?? '', /a very long reason/);
    await p.page.setViewportSize({ width: 900, height: 700 });
  });
});
