/**
 * The rank editor's keys as one pure step (no DOM, no Svelte): the state is the groups on screen, the selected
 * response, the order being typed and why its last key was refused; each rank-editing key action (a digit,
 * Backspace, `=`, `-`, ↑/↓, Alt+↑/↓) gives the next state. App.svelte holds the state; the group operations are
 * rankModel.ts's.
 */
import { assertUnreachable } from '../../src/core/assertUnreachable';
import type { KeyAction } from './keys';
import { flatten, mergeUp, moveDown, moveUp, readTypedOrder, splitOut, type Groups } from './rankModel';

/** What the rank editor shows. */
export interface RankEdit {
  groups: Groups;
  /** The selected response (index into the item's responses). */
  selected: number;
  /** The order typed so far (card numbers and `=`). */
  typed: string;
  /** Why the last typed key was refused (the order stays as it was); cleared by the next valid key. */
  typedError: string | undefined;
}

const RANK_EDIT_KINDS = ['digit', 'backspace', 'tieUp', 'splitOut', 'selectUp', 'selectDown', 'moveUp', 'moveDown'] as const;

/** The key actions that edit a ranking. */
export type RankEditAction = Extract<KeyAction, { kind: (typeof RANK_EDIT_KINDS)[number] }>;

/** True for a key action that edits a ranking. */
export function isRankEdit(action: KeyAction): action is RankEditAction {
  return (RANK_EDIT_KINDS as readonly string[]).includes(action.kind);
}

/** `key` added to the typed order when the order can still be one of the cards `shown`, else why not. */
function typeKey(s: RankEdit, key: string, shown: readonly number[]): { state: RankEdit; added: boolean } {
  const next = readTypedOrder(s.typed + key, [...shown]);
  if (next.error) return { state: { ...s, typedError: next.error }, added: false };
  return { state: { ...s, typed: s.typed + key, typedError: undefined }, added: true };
}

/** The state after one rank-editing key, for an item whose cards show the responses `shown` (display order). */
export function editRanking(s: RankEdit, action: RankEditAction, shown: readonly number[]): RankEdit {
  const order = flatten(s.groups);
  switch (action.kind) {
    case 'digit': {
      // A typed card number also selects that card.
      const { state, added } = typeKey(s, action.digit, shown);
      const label = Number(action.digit);
      return added && label <= shown.length ? { ...state, selected: shown[label - 1] } : state;
    }
    case 'backspace':
      return { ...s, typed: s.typed.slice(0, -1), typedError: undefined };
    case 'tieUp': // while typing an order: tie the next card with the last one typed
      return s.typed ? typeKey(s, '=', shown).state : { ...s, groups: mergeUp(s.groups, s.selected) };
    case 'splitOut':
      return { ...s, groups: splitOut(s.groups, s.selected) };
    case 'selectUp':
      return { ...s, selected: order[Math.max(0, order.indexOf(s.selected) - 1)] ?? s.selected };
    case 'selectDown':
      return { ...s, selected: order[Math.min(order.length - 1, order.indexOf(s.selected) + 1)] ?? s.selected };
    case 'moveUp':
      return { ...s, groups: moveUp(s.groups, s.selected) };
    case 'moveDown':
      return { ...s, groups: moveDown(s.groups, s.selected) };
    default:
      return assertUnreachable(action);
  }
}
