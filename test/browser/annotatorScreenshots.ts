/**
 * Renders the annotator webview in pair and rank mode with VS Code's Light+ and Dark+ colours and
 * saves media/screenshots/annotator-{pair,rank}-{light,dark}.png for the README.
 * Run: node scripts/build.mjs && node --import tsx test/browser/annotatorScreenshots.ts
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AnnotatorHostToWebview, ItemView } from '../../webview/protocol/annotator';
import { closeBrowser, openAnnotatorPage, type ThemeName } from './annotatorPage';

const root = join(import.meta.dirname, '..', '..');
const out = join(root, 'media', 'screenshots');

const pair: ItemView = {
  index: 41,
  id: 'code-017',
  line: 42,
  prompt: [
    { role: 'system', content: 'You are a concise Python tutor.' },
    { role: 'user', content: 'How do I reverse a string in Python? Show a function.' },
  ],
  responses: [
    {
      text: 'Use slicing with a step of `-1`:\n\n```python\ndef reverse(s: str) -> str:\n    return s[::-1]\n\nprint(reverse("abc"))  # cba\n```\n\nSlicing creates a new string; the original is unchanged.',
    },
    {
      text: 'You can loop over the characters and build the result:\n\n```python\ndef reverse(s):\n    out = ""\n    for ch in s:\n        out = ch + out\n    return out\n```\n\nThis works, but it is **quadratic** for long strings.',
    },
  ],
  shown: [0, 1],
  others: 1,
  disagreed: false,
  flagged: false,
};

const rank: ItemView = {
  index: 203,
  id: 'arith-204',
  line: 204,
  prompt: 'What is **37 + 45**? Answer briefly.',
  responses: [{ text: '82' }, { text: 'The sum of 37 and 45 is **82**.' }, { text: '81' }, { text: '37 + 45 = 82, because 30 + 40 = 70 and 7 + 5 = 12.' }],
  shown: [1, 3, 0, 2],
  others: 0,
  disagreed: false,
  flagged: false,
};

async function shoot(theme: ThemeName, mode: 'pair' | 'rank'): Promise<void> {
  const p = await openAnnotatorPage({ theme, width: 1100, height: mode === 'pair' ? 640 : 480 });
  try {
    await p.fromHost({ type: 'init', config: { annotator: 'alice', confirmWithEnter: false, fileName: 'arith.tasks.jsonl', logFileName: 'arith.annotations.jsonl' } });
    const msg: AnnotatorHostToWebview = { type: 'item', item: mode === 'pair' ? pair : rank, progress: { done: mode === 'pair' ? 41 : 187, total: 240, indexing: false }, filter: 'all' };
    await p.fromHost(msg);
    if (mode === 'rank') {
      // best: the terse correct answer, then the two verbose correct ones tied, the wrong one last
      for (const k of ['ArrowDown', 'ArrowDown', 'Alt+ArrowUp', 'Alt+ArrowUp', 'ArrowDown', 'ArrowDown', '=']) await p.page.keyboard.press(k);
    } else {
      await p.fromHost({ type: 'saved', requestId: 0, itemId: pair.id, kind: 'pair', progress: { done: 41, total: 240, indexing: false } });
    }
    await p.page.waitForTimeout(150);
    await p.page.screenshot({ path: join(out, `annotator-${mode}-${theme}.png`) });
  } finally {
    await p.close();
  }
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  for (const theme of ['light', 'dark'] as const) for (const mode of ['pair', 'rank'] as const) await shoot(theme, mode);
  await closeBrowser();
  console.log(`screenshots written to ${out}`);
}

void main();
