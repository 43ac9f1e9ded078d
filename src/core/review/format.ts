/**
 * Human-readable text of a review report for the terminal (`dap review` without --json): one table per
 * list with counts, most useful list first, long texts cut to fit; responses named by their number in the
 * item (#1, #2), each annotator's judgment with what they were shown. Pure string building.
 */
import type { Prompt } from '../types';
import { NEVER_WON_MIN_ANNOTATORS } from '../agreement';
import type { ReviewReport } from './types';

/** A prompt as one line (chat prompts: the last user turn). */
export function promptLine(prompt: Prompt): string {
  if (typeof prompt === 'string') return prompt;
  const last = [...prompt].reverse().find((m) => m.role === 'user') ?? prompt[prompt.length - 1];
  return last ? last.content : '';
}

/** Cuts to `width` characters on one line, with an ellipsis. */
export function cut(text: string, width: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= width ? one : one.slice(0, Math.max(0, width - 1)) + '…';
}

/** Left-aligned columns separated by two spaces; numbers are right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  return cells
    .map((r) => r.map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd())
    .join('\n');
}

/**
 * How the review names a response: its 1-based number in the task file ("#2"). Never a letter: A and B are
 * what each annotator saw on screen, in their own shuffled order (core/displayOrder.ts).
 */
export function responseLabel(index: number): string {
  return `#${index + 1}`;
}

/** The screen label of display position p of n: A / B for a pair, 1, 2, 3 … for a ranking. */
function screenLabel(p: number, n: number): string {
  return n === 2 ? String.fromCharCode(65 + p) : String(p + 1);
}

/**
 * One annotator's judgment in words a reviewer can check against what that annotator saw: `order` over
 * response numbers, best first ("#2 > #1", a tie "#1 = #3", "all bad"); `saw` (when the display order was
 * recorded) the screen labels the responses had for that annotator and what they chose there, e.g.
 * "saw A = #2, B = #1; chose A" or "saw 1 = #3, 2 = #1, 3 = #2; ranked 2 > 1 = 3".
 */
export function describeJudgment(j: { ranking: number[][]; bothBad: boolean; shown?: number[] }): { order: string; saw?: string } {
  const order = j.bothBad ? 'all bad' : j.ranking.map((g) => g.map(responseLabel).join(' = ')).join(' > ');
  if (!j.shown) return { order };
  const n = j.shown.length;
  const saw = `saw ${j.shown.map((r, p) => `${screenLabel(p, n)} = ${responseLabel(r)}`).join(', ')}`;
  return { order, saw: `${saw}; ${n === 2 ? 'chose' : 'ranked'} ${inScreenLabels(j, j.shown)}` };
}

/**
 * A judgment written in the screen labels of display order `shown` (whoever's it is): a pair as the label
 * that won ("B"), "tie" or "both bad"; a ranking as "2 > 1 = 3" or "all bad". The review uses it with the
 * judging annotator's own order; the annotator with the viewer's, to show others' judgments as they see them.
 */
export function inScreenLabels(j: { ranking: number[][]; bothBad: boolean }, shown: readonly number[]): string {
  const n = shown.length;
  const onScreen = (r: number) => screenLabel(shown.indexOf(r), n);
  if (j.bothBad) return n === 2 ? 'both bad' : 'all bad';
  if (n === 2) return j.ranking.length === 1 ? 'tie' : onScreen(j.ranking[0][0]);
  return j.ranking.map((g) => g.map(onScreen).join(' = ')).join(' > ');
}

const fixed = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');

export function formatReport(r: ReviewReport): string {
  const out: string[] = [];
  out.push(`Review of ${r.taskFile} (log ${r.logFile})`);
  out.push(
    `${r.annotatedItems}/${r.items} items annotated by ${r.annotators.length} annotator(s): ${r.annotators.join(', ') || '-'}; ` +
      `${r.confirmedHidden} confirmed entr${r.confirmedHidden === 1 ? 'y' : 'ies'} hidden`,
  );
  if (r.labelSource === 'rows') out.push('Labels: the rows themselves (no judgments in the log): one label per row, only the model-flagged list applies');

  // Most useful first: disagreements, model-flagged pairs, then never-won responses.
  const shown = (n: number, total: number): string => (n < total ? ` (first ${n} shown)` : '');
  out.push('', `== Disagreements: ${r.totals.disagreements} item(s) (rankings: Kendall tau-b < ${r.tauThreshold})${shown(r.disagreements.length, r.totals.disagreements)} ==`);
  if (r.disagreements.length) {
    out.push(
      table(
        ['line', 'item', 'kind', 'min tau', 'prompt', 'judgments (#N = response N of the item; saw = what that annotator was shown)'],
        r.disagreements.map((e) => [
          e.line,
          cut(e.item, 20),
          e.kind,
          fixed(e.minTau),
          cut(promptLine(e.prompt), 40),
          e.judgments
            .map((j) => {
              const d = describeJudgment(j);
              return `${j.annotator}: ${d.order}${d.saw ? ` (${d.saw})` : ''}`;
            })
            .join('; '),
        ]),
      ),
    );
  }
  out.push('', '== Agreement with the majority of the other annotators ==');
  out.push(
    table(
      ['annotator', 'judged', 'compared', 'agreed', 'rate'],
      r.annotatorAgreement.map((a) => [a.annotator, a.judged, a.compared, a.agreed, a.compared ? `${(100 * a.rate).toFixed(1)}%` : '-']),
    ),
  );

  if (r.flagged) {
    const total = r.totals.flagged ?? r.flagged.length;
    out.push('', `== Model-flagged pairs: ${total} (margin < 0: the model prefers the rejected response)${shown(r.flagged.length, total)} ==`);
    if (r.flaggedMethod) out.push(r.flaggedMethod);
    if (r.flagged.length) {
      out.push(
        table(
          ['line', 'item', 'margin', 'chosen', 'rejected', 'by', 'prompt'],
          r.flagged.map((p) => [
            p.line,
            cut(p.item, 20),
            fixed(p.margin),
            `${responseLabel(p.chosen)} ${JSON.stringify(cut(p.chosenText, 24))}`,
            `${responseLabel(p.rejected)} ${JSON.stringify(cut(p.rejectedText, 24))}`,
            p.annotators.join(','),
            cut(promptLine(p.prompt), 32),
          ]),
        ),
      );
    }
  } else {
    out.push('', '== Model-flagged pairs: not scored (use --run RUN_DIR, --model DIR, or --k K to train k-fold models) ==');
  }

  out.push('', `== Never won (lost every comparison, judged by ${NEVER_WON_MIN_ANNOTATORS}+ annotators): ${r.totals.neverWon} item(s), ${r.totals.allLost} where every response lost or was judged both bad${shown(r.neverWon.length, r.totals.neverWon)} ==`);
  if (r.neverWon.length) {
    out.push(
      table(
        ['line', 'item', 'lost', 'all lost', 'never won (losses)', 'prompt'],
        r.neverWon.map((e) => [
          e.line,
          cut(e.item, 20),
          e.lostComparisons,
          e.allLost ? 'yes' : 'no',
          cut(e.neverWon.map((n) => `${responseLabel(n.index)} ${JSON.stringify(cut(n.text, 24))} (${n.losses})`).join('; ') || '-', 60),
          cut(promptLine(e.prompt), 40),
        ]),
      ),
    );
  }

  return out.join('\n') + '\n';
}
