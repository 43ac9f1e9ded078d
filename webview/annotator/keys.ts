/**
 * The annotator's keyboard map as ONE table: each row binds keys to actions in a mode and says what they
 * do. `actionFor` (a key press outside text fields → one action) and the help overlay (`helpRows`) both
 * read it, so the help can never describe a key the map does not have. README-keys.md documents the same
 * table for users and tests.
 */
import type { PairChoice } from '../../src/core/types';

export type KeyAction =
  | { kind: 'choose'; choice: PairChoice }
  | { kind: 'enter' }
  | { kind: 'escape' }
  | { kind: 'digit'; digit: string }
  | { kind: 'backspace' }
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
  | { kind: 'search' }
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

/** Which modifier a binding needs: none, Alt, or Ctrl (Cmd on macOS). */
type Modifier = 'none' | 'alt' | 'ctrl';

/** One key → action: `key` is KeyboardEvent.key (Ctrl bindings match either case), or `digits` for 1–9. */
type Binding = { key: string; modifier?: Modifier; action: KeyAction } | { digits: true; action: (digit: string) => KeyAction };

/** One row of the table: its bindings, where they apply, and the help text. */
interface KeyRow {
  mode: 'pair' | 'rank' | 'both';
  bindings: Binding[];
  help: string;
  /** How the keys are written in the help when the bindings alone would not say it (e.g. digits). */
  label?: string;
}

const bind = (key: string, action: KeyAction, modifier: Modifier = 'none'): Binding => ({ key, modifier, action });

/** THE key map, in help order. */
const KEY_MAP: readonly KeyRow[] = [
  { mode: 'pair', bindings: [bind('1', { kind: 'choose', choice: 'a' }), bind('a', { kind: 'choose', choice: 'a' })], help: 'A is better' },
  { mode: 'pair', bindings: [bind('2', { kind: 'choose', choice: 'b' }), bind('b', { kind: 'choose', choice: 'b' })], help: 'B is better' },
  { mode: 'pair', bindings: [bind('3', { kind: 'choose', choice: 'tie' })], help: 'Tie' },
  { mode: 'pair', bindings: [bind('4', { kind: 'choose', choice: 'both_bad' })], help: 'Both bad' },
  { mode: 'pair', bindings: [bind('Enter', { kind: 'enter' })], help: 'Confirm the choice (setting dapStudio.confirmWithEnter)' },
  { mode: 'rank', bindings: [bind('ArrowUp', { kind: 'selectUp' }), bind('ArrowDown', { kind: 'selectDown' })], help: 'Select the response above / below' },
  { mode: 'rank', bindings: [bind('ArrowUp', { kind: 'moveUp' }, 'alt'), bind('ArrowDown', { kind: 'moveDown' }, 'alt')], help: 'Move the selected response up / down' },
  {
    mode: 'rank',
    bindings: [{ digits: true, action: (digit) => ({ kind: 'digit', digit }) }],
    label: 'digits, e.g. 312',
    help: 'Type an order of the card numbers, best first (3=12: 3 and 1 tie first, then 2); Enter saves it',
  },
  { mode: 'rank', bindings: [bind('Backspace', { kind: 'backspace' })], help: 'Take back the last typed number or =' },
  { mode: 'rank', bindings: [bind('=', { kind: 'tieUp' })], help: 'Tie the selected response with the group above (while typing an order: tie the next card with the last)' },
  { mode: 'rank', bindings: [bind('-', { kind: 'splitOut' })], help: 'Take the selected response out of its tie' },
  { mode: 'rank', bindings: [bind('Enter', { kind: 'enter' })], help: 'Save the ranking as shown' },
  { mode: 'both', bindings: [bind('Escape', { kind: 'escape' })], help: 'Clear the typed order / close a box' },
  { mode: 'both', bindings: [bind('m', { kind: 'mode' })], help: 'Switch pair ↔ rank (items with 2 responses)' },
  { mode: 'both', bindings: [bind('j', { kind: 'next' }), bind('ArrowRight', { kind: 'next' })], help: 'Next item' },
  { mode: 'both', bindings: [bind('k', { kind: 'prev' }), bind('ArrowLeft', { kind: 'prev' })], help: 'Previous item' },
  { mode: 'both', bindings: [bind('u', { kind: 'nextUnannotated' })], help: 'Next unannotated item' },
  { mode: 'both', bindings: [bind('s', { kind: 'skip' })], help: 'Skip (next unannotated after this one)' },
  { mode: 'both', bindings: [bind('z', { kind: 'undo' }), bind('z', { kind: 'undo' }, 'ctrl')], help: 'Undo your last judgment (appends an undo event)' },
  { mode: 'both', bindings: [bind('g', { kind: 'jump' })], help: 'Go to item: id, or #N for the N-th item' },
  { mode: 'both', bindings: [bind('/', { kind: 'search' })], help: 'Find items by text in the prompt or responses (Enter: next, Shift+Enter: previous)' },
  { mode: 'both', bindings: [bind('f', { kind: 'flag' })], help: 'Flag / unflag the item' },
  { mode: 'both', bindings: [bind('n', { kind: 'note' })], help: 'Write a note (saved with the next judgment)' },
  { mode: 'both', bindings: [bind('r', { kind: 'raw' })], help: 'Raw text ↔ rendered Markdown' },
  { mode: 'both', bindings: [bind('d', { kind: 'diff' })], help: 'Word diff between responses' },
  { mode: 'both', bindings: [bind('?', { kind: 'help' })], help: 'Show / hide this help' },
];

/** The modifier a key press carries (Ctrl and Cmd count alike; they win over Alt). */
function modifierOf(e: KeyPress): Modifier {
  return e.ctrlKey || e.metaKey ? 'ctrl' : e.altKey ? 'alt' : 'none';
}

/** The action of a key press in a mode, or null when the map has none. */
export function actionFor(e: KeyPress, mode: 'pair' | 'rank'): KeyAction | null {
  const modifier = modifierOf(e);
  for (const row of KEY_MAP) {
    if (row.mode !== mode && row.mode !== 'both') continue;
    for (const b of row.bindings) {
      if ('digits' in b) {
        if (modifier === 'none' && /^[1-9]$/.test(e.key)) return b.action(e.key);
      } else if ((b.modifier ?? 'none') === modifier && (modifier === 'ctrl' ? e.key.toLowerCase() === b.key.toLowerCase() : e.key === b.key)) {
        return b.action;
      }
    }
  }
  return null;
}

const KEY_NAMES: Record<string, string> = { ArrowUp: '↑', ArrowDown: '↓', ArrowLeft: '←', ArrowRight: '→', Escape: 'Esc' };

/** How a binding is written in the help: "Alt+↑", "Ctrl+Z", "a". */
function keyLabel(b: Binding): string {
  if ('digits' in b) return '1–9';
  const name = KEY_NAMES[b.key] ?? (b.modifier === 'ctrl' ? b.key.toUpperCase() : b.key);
  return b.modifier === 'alt' ? `Alt+${name}` : b.modifier === 'ctrl' ? `Ctrl+${name}` : name;
}

/** Rows of the help overlay: keys ("1 / a"), what they do, where (pair, rank or both). */
export function helpRows(): { keys: string; action: string; mode: 'pair' | 'rank' | 'both' }[] {
  return KEY_MAP.map((row) => ({ keys: row.label ?? row.bindings.map(keyLabel).join(' / '), action: row.help, mode: row.mode }));
}
