/**
 * The annotator's keyboard map: a key press (outside text fields) → one action. Kept apart from the
 * view so README-keys.md, the help overlay and the tests read from one table.
 */
import type { PairChoice } from '../../src/core/types';

export type KeyAction =
  | { kind: 'choose'; choice: PairChoice }
  | { kind: 'enter' }
  | { kind: 'escape' }
  | { kind: 'digit'; digit: string }
  | { kind: 'tieUp' }
  | { kind: 'splitOut' }
  | { kind: 'selectUp' }
  | { kind: 'selectDown' }
  | { kind: 'moveUp' }
  | { kind: 'moveDown' }
  | { kind: 'next' }
  | { kind: 'prev' }
  | { kind: 'nextUnannotated' }
  | { kind: 'skip' }
  | { kind: 'undo' }
  | { kind: 'jump' }
  | { kind: 'flag' }
  | { kind: 'note' }
  | { kind: 'raw' }
  | { kind: 'diff' }
  | { kind: 'mode' }
  | { kind: 'help' };

/** The fields of a KeyboardEvent the map reads. */
export interface KeyPress {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

/** Rows of the help overlay and README-keys.md: keys, what they do, where. */
export const KEY_HELP: { keys: string; action: string; mode: 'pair' | 'rank' | 'both' }[] = [
  { keys: '1 / a', action: 'A is better', mode: 'pair' },
  { keys: '2 / b', action: 'B is better', mode: 'pair' },
  { keys: '3', action: 'Tie', mode: 'pair' },
  { keys: '4', action: 'Both bad', mode: 'pair' },
  { keys: 'Enter', action: 'Confirm the choice (setting dapStudio.confirmWithEnter)', mode: 'pair' },
  { keys: '↑ / ↓', action: 'Select the response above / below', mode: 'rank' },
  { keys: 'Alt+↑ / Alt+↓', action: 'Move the selected response up / down', mode: 'rank' },
  { keys: 'digits, e.g. 312', action: 'Type a full order (best first; 3=12 ties 1 and 2), then Enter saves it', mode: 'rank' },
  { keys: '=', action: 'Tie the selected response with the group above', mode: 'rank' },
  { keys: '-', action: 'Take the selected response out of its tie', mode: 'rank' },
  { keys: 'Enter', action: 'Save the ranking as shown', mode: 'rank' },
  { keys: 'Esc', action: 'Clear the typed order / close a box', mode: 'both' },
  { keys: 'm', action: 'Switch pair ↔ rank (items with 2 responses)', mode: 'both' },
  { keys: 'j / →', action: 'Next item', mode: 'both' },
  { keys: 'k / ←', action: 'Previous item', mode: 'both' },
  { keys: 'u', action: 'Next unannotated item', mode: 'both' },
  { keys: 's', action: 'Skip (next unannotated after this one)', mode: 'both' },
  { keys: 'z / Ctrl+Z', action: 'Undo your last judgment (appends an undo event)', mode: 'both' },
  { keys: 'g', action: 'Go to item: id, or #N for the N-th item', mode: 'both' },
  { keys: 'f', action: 'Flag / unflag the item', mode: 'both' },
  { keys: 'n', action: 'Write a note (saved with the next judgment)', mode: 'both' },
  { keys: 'r', action: 'Raw text ↔ rendered Markdown', mode: 'both' },
  { keys: 'd', action: 'Word diff between responses', mode: 'both' },
  { keys: '?', action: 'Show / hide this help', mode: 'both' },
];

export function actionFor(e: KeyPress, mode: 'pair' | 'rank'): KeyAction | null {
  if (e.ctrlKey || e.metaKey) return e.key.toLowerCase() === 'z' ? { kind: 'undo' } : null;
  if (e.altKey) {
    if (mode === 'rank' && e.key === 'ArrowUp') return { kind: 'moveUp' };
    if (mode === 'rank' && e.key === 'ArrowDown') return { kind: 'moveDown' };
    return null;
  }
  if (mode === 'pair') {
    switch (e.key) {
      case '1':
      case 'a':
        return { kind: 'choose', choice: 'a' };
      case '2':
      case 'b':
        return { kind: 'choose', choice: 'b' };
      case '3':
        return { kind: 'choose', choice: 'tie' };
      case '4':
        return { kind: 'choose', choice: 'both_bad' };
    }
  } else {
    if (/^[1-9]$/.test(e.key)) return { kind: 'digit', digit: e.key };
    switch (e.key) {
      case '=':
        return { kind: 'tieUp' };
      case '-':
        return { kind: 'splitOut' };
      case 'ArrowUp':
        return { kind: 'selectUp' };
      case 'ArrowDown':
        return { kind: 'selectDown' };
    }
  }
  switch (e.key) {
    case 'Enter':
      return { kind: 'enter' };
    case 'Escape':
      return { kind: 'escape' };
    case 'j':
    case 'ArrowRight':
      return { kind: 'next' };
    case 'k':
    case 'ArrowLeft':
      return { kind: 'prev' };
    case 'u':
      return { kind: 'nextUnannotated' };
    case 's':
      return { kind: 'skip' };
    case 'z':
      return { kind: 'undo' };
    case 'g':
      return { kind: 'jump' };
    case 'f':
      return { kind: 'flag' };
    case 'n':
      return { kind: 'note' };
    case 'r':
      return { kind: 'raw' };
    case 'd':
      return { kind: 'diff' };
    case 'm':
      return { kind: 'mode' };
    case '?':
      return { kind: 'help' };
  }
  return null;
}
