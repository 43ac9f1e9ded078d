/**
 * Layout of the annotator's pair mode in headless Chromium at several widths, with long code lines and
 * long unbroken strings on one side only (the case that gave ~590 vs ~405 px columns and pushed B out of a
 * 520 px view): A and B always get equal widths and stay inside the view; side by side from 640 px of
 * width, stacked (A above B, equal heights) below; nothing scrolls the page sideways. Rank mode's tied
 * cards share their row equally too.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnnotatorConfig, ItemView, Progress } from '../../webview/protocol/annotator';
import { closeBrowser, openAnnotatorPage, type AnnotatorPage } from './annotatorPage';

const config: AnnotatorConfig = { annotator: 'tester', confirmWithEnter: false, fileName: 'tasks.jsonl', logFileName: 'tasks.annotations.jsonl' };
const progress: Progress = { done: 0, total: 3, indexing: false };

const longCode = '```python\n' + `def f():\n    return ${'"' + 'x'.repeat(40) + '" + '.repeat(12)}"end"\n` + '```';
const unbroken = 'sha256:' + 'ab12'.repeat(150);
const url = 'https://example.com/' + 'very-long-path-segment/'.repeat(20);

function item(left: string, right: string, id: string): ItemView {
  return { index: 0, id, line: 1, prompt: `Which is better? ${unbroken.slice(0, 300)}`, responses: [{ text: left }, { text: right }], shown: [0, 1], others: 0, disagreed: false, flagged: false };
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function boxes(p: AnnotatorPage): Promise<{ a: Box; b: Box; viewport: number; scrollWidth: number; choices: Box }> {
  // (No named functions inside evaluate: tsx would wrap them in a helper the page does not have.)
  const [a, b, choices] = await p.page.evaluate(() =>
    ['response-A', 'response-B', 'choice-both_bad'].map((id) => {
      const r = (document.querySelector(`[data-testid="${id}"]`) as HTMLElement).getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    }),
  );
  const [viewport, scrollWidth] = await p.page.evaluate(() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]);
  return { a, b, choices, viewport, scrollWidth };
}

let page: AnnotatorPage | undefined;
after(async () => {
  await page?.close();
  await closeBrowser();
});

describe('annotator layout', { timeout: 120_000 }, () => {
  const contents: [string, string, string][] = [
    ['long code left', longCode, 'Short answer.'],
    ['unbroken string right', 'Short answer.', unbroken],
    ['url and code', `${url}\n\n${longCode}`, `See ${url}`],
  ];
  for (const width of [360, 520, 639, 640, 800, 1042, 1400]) {
    test(`at ${width} px: equal widths, inside the view, ${width < 640 ? 'stacked A above B' : 'side by side'}`, async () => {
      page ??= await openAnnotatorPage({ width, height: 800 });
      await page.page.setViewportSize({ width, height: 800 });
      await page.fromHost({ type: 'config', config });
      for (const [name, left, right] of contents) {
        const id = `${name}@${width}`;
        await page.fromHost({ type: 'item', item: item(left, right, id), progress, filter: 'all' });
        await page.page.waitForSelector(`[data-testid="annotator-root"][data-item-id="${id}"]`);
        const { a, b, viewport, scrollWidth, choices } = await boxes(page);
        const where = `${name} at ${width}px: A ${JSON.stringify(a)}, B ${JSON.stringify(b)}`;
        assert.ok(Math.abs(a.width - b.width) <= 1, `equal widths: ${where}`);
        assert.ok(scrollWidth <= viewport, `the page does not scroll sideways (${scrollWidth} > ${viewport}): ${where}`);
        for (const r of [a, b]) assert.ok(r.x >= 0 && r.x + r.width <= viewport + 0.5, `inside the view: ${where}`);
        assert.ok(a.width >= 200 || width < 400, `readable width: ${where}`);
        if (width < 640) {
          assert.ok(Math.abs(a.x - b.x) <= 1, `stacked: same left edge: ${where}`);
          assert.ok(b.y >= a.y + a.height - 0.5, `stacked: B below A: ${where}`);
          assert.ok(Math.abs(a.height - b.height) <= 1, `stacked: equal heights: ${where}`);
          assert.ok(a.width >= viewport - 40, `stacked: full width: ${where}`);
        } else {
          assert.ok(Math.abs(a.y - b.y) <= 1, `side by side: same top: ${where}`);
          assert.ok(b.x >= a.x + a.width, `side by side: B right of A: ${where}`);
        }
        assert.ok(choices.x + choices.width <= viewport + 0.5 && choices.y + choices.height <= 800 + 0.5, `the choice buttons stay on screen: ${where}`);
      }
    });
  }

  test('rank mode: tied cards share their row equally whatever their content', async () => {
    page ??= await openAnnotatorPage({ width: 900, height: 800 });
    await page.page.setViewportSize({ width: 900, height: 800 });
    const rank: ItemView = {
      index: 1, id: 'rank-layout', line: 2, prompt: 'Rank these.', shown: [0, 1, 2], others: 0, disagreed: false, flagged: false,
      responses: [{ text: longCode }, { text: 'ok' }, { text: unbroken }],
      mine: { item: 'rank-layout', annotator: 'tester', ranking: [[0, 1, 2]], bothBad: false, ts: '', kind: 'rank' },
    };
    await page.fromHost({ type: 'item', item: rank, progress, filter: 'all' });
    await page.page.waitForSelector('[data-testid="rank-card-3"]');
    const widths = await page.page.evaluate(() =>
      [1, 2, 3].map((n) => (document.querySelector(`[data-testid="rank-card-${n}"]`) as HTMLElement).getBoundingClientRect().width),
    );
    const viewport = await page.page.evaluate(() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]);
    assert.ok(Math.max(...widths) - Math.min(...widths) <= 1, `equal tied cards: ${widths}`);
    assert.ok(viewport[1] <= viewport[0], `no sideways scroll: ${viewport}`);
  });
});
