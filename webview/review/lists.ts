/**
 * Pure filtering and sorting of the review lists for the webview (no DOM): what the panel shows for
 * a given report and UI state. Kept apart from the Svelte component so it reads like a spec.
 */
import type { DisagreementEntry, FlaggedPair, NeverWonEntry } from '../../src/core/review/types';
import type { Prompt } from '../../src/core/types';
import type { ReviewUiState } from './vscodeApi';

/** A prompt as one line of text (chat prompts: the last user turn, prefixed by the role). */
export function promptText(prompt: Prompt): string {
  if (typeof prompt === 'string') return prompt;
  const last = [...prompt].reverse().find((m) => m.role === 'user') ?? prompt[prompt.length - 1];
  return last ? `${last.role}: ${last.content}` : '';
}

function matches(query: string, fields: string[]): boolean {
  const q = query.trim().toLowerCase();
  return q === '' || fields.some((f) => f.toLowerCase().includes(q));
}

export function visibleNeverWon(list: NeverWonEntry[], ui: ReviewUiState): NeverWonEntry[] {
  const shown = list.filter(
    (e) =>
      (!ui.allLostOnly || e.allLost) &&
      matches(ui.query, [e.item, promptText(e.prompt), ...e.responses.map((r) => r.text)]),
  );
  return ui.sort === 'line'
    ? shown.sort((a, b) => a.line - b.line)
    : shown.sort((a, b) => b.lostComparisons - a.lostComparisons || a.line - b.line);
}

export function visibleDisagreements(list: DisagreementEntry[], ui: ReviewUiState): DisagreementEntry[] {
  const shown = list.filter(
    (e) =>
      (ui.annotator === '' || e.judgments.some((j) => j.annotator === ui.annotator)) &&
      matches(ui.query, [e.item, promptText(e.prompt), ...e.responses.map((r) => r.text)]),
  );
  return ui.sort === 'line'
    ? shown.sort((a, b) => a.line - b.line)
    : shown.sort((a, b) => a.minTau - b.minTau || a.line - b.line);
}

export function visibleFlagged(list: FlaggedPair[], ui: ReviewUiState): FlaggedPair[] {
  const shown = list.filter(
    (e) =>
      (ui.annotator === '' || e.annotators.includes(ui.annotator)) &&
      matches(ui.query, [e.item, promptText(e.prompt), e.chosenText, e.rejectedText]),
  );
  return ui.sort === 'line'
    ? shown.sort((a, b) => a.line - b.line || a.chosen - b.chosen)
    : shown.sort((a, b) => a.margin - b.margin || a.line - b.line);
}
