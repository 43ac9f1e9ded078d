/**
 * Renders the review webview on the sample data (lists computed by src/core/review from
 * media/samples/arith.*.jsonl, model scores from a small k-fold run when `--scores FILE` gives the JSON
 * of `dap review --json`) with VS Code's Dark+ and Light+ colours and saves
 * media/screenshots/review-{disagreements,flagged}-{dark,light}.png for the README.
 * Run: node scripts/build.mjs && node --import tsx test/browser/reviewScreenshots.ts [--scores FILE]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWebview } from './harness';
import { loadReview } from '../../src/core/review/load';
import type { ReviewReport } from '../../src/core/review/types';
import type { ReviewHostToWebview, ReviewWebviewToHost } from '../../webview/protocol/review';

const root = join(import.meta.dirname, '..', '..');
const scoresArg = process.argv.indexOf('--scores');
const scored = scoresArg > 0 ? (JSON.parse(readFileSync(process.argv[scoresArg + 1], 'utf8')) as ReviewReport) : undefined;

async function main(): Promise<void> {
  const { report } = await loadReview(join(root, 'media/samples/arith.tasks.jsonl'), join(root, 'media/samples/arith.annotations.jsonl'), {
    scores: scored?.scores,
    scoresMethod: scored?.flaggedMethod,
  });
  report.taskFile = 'arith.tasks.jsonl';
  report.logFile = 'arith.annotations.jsonl';
  for (const theme of ['dark', 'light'] as const) {
    const wv = await openWebview<ReviewWebviewToHost, ReviewHostToWebview>('review', { theme, viewport: { width: 1100, height: 720 } });
    await wv.waitForMessage((m) => m.type === 'ready', 5000);
    await wv.fromHost({ type: 'report', report });
    await wv.page.click('[data-testid="tab-disagreement"]');
    await wv.screenshot(join(root, `media/screenshots/review-disagreements-${theme}.png`));
    if (report.flagged) {
      await wv.page.click('[data-testid="tab-model_flagged"]');
      await wv.screenshot(join(root, `media/screenshots/review-flagged-${theme}.png`));
    }
    await wv.close();
  }
}

void main();
