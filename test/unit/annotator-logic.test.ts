/**
 * Pure logic of the annotator webview: the LCS word diff (checked against an independent memoised
 * recursive LCS on random texts), ranking edits (move, tie, split, drop, typed order) and the key map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, wordDiff } from '../../webview/annotator/wordDiff';
import { dropOn, mergeUp, moveDown, moveUp, parseTypedOrder, readTypedOrder, splitOut, typedRanks } from '../../webview/annotator/rankModel';
import { actionFor, helpRows } from '../../webview/annotator/keys';

/** Reference LCS length over tokens by plain memoised recursion (independent of the DP table). */
function lcsLength(a: string[], b: string[]): number {
  const memo = new Map<string, number>();
  const go = (i: number, j: number): number => {
    if (i === a.length || j === b.length) return 0;
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const v = a[i] === b[j] ? 1 + go(i + 1, j + 1) : Math.max(go(i + 1, j), go(i, j + 1));
    memo.set(key, v);
    return v;
  };
  return go(0, 0);
}

test('word diff: sides rebuild the texts, unchanged words form a longest common subsequence', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const words = ['the', 'cat', 'dog', 'sat', 'on', 'a', 'mat', '42', 'x'];
  const text = () => Array.from({ length: 1 + Math.floor(rand() * 12) }, () => words[Math.floor(rand() * words.length)]).join(rand() < 0.5 ? ' ' : '  ');
  for (let trial = 0; trial < 200; trial++) {
    const a = text();
    const b = text();
    const d = wordDiff(a, b);
    assert.equal(d.left.map((t) => t.text).join(''), a);
    assert.equal(d.right.map((t) => t.text).join(''), b);
    const keptA = d.left.filter((t) => !t.changed && t.text.trim()).map((t) => t.text);
    const keptB = d.right.filter((t) => !t.changed && t.text.trim()).map((t) => t.text);
    assert.deepEqual(keptA, keptB, 'unchanged words are common, in order');
    const wa = tokenize(a).filter((t) => t.trim());
    const wb = tokenize(b).filter((t) => t.trim());
    assert.equal(keptA.length, lcsLength(wa, wb), `${a} | ${b}`);
  }
  assert.deepEqual(
    wordDiff('the cat sat', 'the dog sat').left.filter((t) => t.changed).map((t) => t.text),
    ['cat'],
  );
});

test('ranking edits: move, tie with the group above, split out, drop, typed order', () => {
  assert.deepEqual(moveUp([[2], [0], [1]], 0), [[0], [2], [1]]);
  assert.deepEqual(moveUp([[0], [2]], 0), [[0], [2]]);
  assert.deepEqual(moveDown([[0, 2], [1]], 0), [[2], [0], [1]]);
  assert.deepEqual(moveUp([[1], [0, 2]], 2), [[1], [2], [0]]);
  assert.deepEqual(mergeUp([[0], [2], [1]], 2), [[0, 2], [1]]);
  assert.deepEqual(mergeUp([[0], [2]], 0), [[0], [2]]);
  assert.deepEqual(splitOut([[0, 2], [1]], 0), [[2], [0], [1]]);
  assert.deepEqual(dropOn([[0], [1], [2]], 2, 0, 'before'), [[2], [0], [1]]);
  assert.deepEqual(dropOn([[0], [1], [2]], 0, 2, 'after'), [[1], [2], [0]]);
  assert.deepEqual(dropOn([[0], [1], [2]], 0, 1, 'tie'), [[1, 0], [2]]);
  const shown = [2, 0, 1];
  assert.deepEqual(parseTypedOrder('312', shown), { groups: [[1], [2], [0]] });
  // The documented examples (keys.ts help, README): "=" ties a card with the one typed before it.
  assert.deepEqual(parseTypedOrder('3=12', shown), { groups: [[1, 2], [0]] }, '3=12: cards 3 and 1 tied first, then 2');
  assert.deepEqual(parseTypedOrder('1=2=3', shown), { groups: [[2, 0, 1]] }, 'all three tied');
  assert.deepEqual(parseTypedOrder('21=3', shown), { groups: [[0], [2, 1]] }, '2 first, then 1 and 3 tied');
  for (const bad of ['31', '311', '412', '=12', '31=', '3a2', '3==12']) assert.ok('error' in parseTypedOrder(bad, shown), bad);
  assert.match((parseTypedOrder('31', shown) as { error: string }).error, /give all 3 cards/);
  // While typing: a valid prefix is incomplete, not an error; a key no further key can fix is one.
  assert.deepEqual(readTypedOrder('3=', shown), { groups: [[1]], complete: false });
  assert.deepEqual(readTypedOrder('3=1', shown), { groups: [[1, 2]], complete: false });
  assert.equal(readTypedOrder('4', shown).error, '4 is not a card number (1–3)');
  assert.equal(readTypedOrder('33', shown).error, '3 is typed twice');
  assert.deepEqual([...typedRanks(readTypedOrder('3=12', shown))], [[1, 1], [2, 1], [0, 2]]);
});

test('key map: pair and rank keys, modifiers', () => {
  const k = (key: string, mods: Partial<{ altKey: boolean; ctrlKey: boolean; metaKey: boolean }> = {}) => ({ key, altKey: false, ctrlKey: false, metaKey: false, ...mods });
  assert.deepEqual(actionFor(k('1'), 'pair'), { kind: 'choose', choice: 'a' });
  assert.deepEqual(actionFor(k('b'), 'pair'), { kind: 'choose', choice: 'b' });
  assert.deepEqual(actionFor(k('4'), 'pair'), { kind: 'choose', choice: 'both_bad' });
  assert.deepEqual(actionFor(k('1'), 'rank'), { kind: 'digit', digit: '1' });
  assert.deepEqual(actionFor(k('ArrowUp', { altKey: true }), 'rank'), { kind: 'moveUp' });
  assert.deepEqual(actionFor(k('z', { ctrlKey: true }), 'pair'), { kind: 'undo' });
  assert.equal(actionFor(k('c', { ctrlKey: true }), 'pair'), null);
  assert.deepEqual(actionFor(k('ArrowRight'), 'rank'), { kind: 'next' });
  assert.equal(actionFor(k('x'), 'pair'), null);
});

test('key map: the help overlay lists every key the map answers to, and only those', () => {
  const k = (key: string, mods: Partial<{ altKey: boolean; ctrlKey: boolean; metaKey: boolean }> = {}) => ({ key, altKey: false, ctrlKey: false, metaKey: false, ...mods });
  const rows = helpRows();
  // The help as users knew it (same rows, same order), plus Backspace for the typed order.
  assert.deepEqual(rows.map((r) => [r.keys, r.mode]), [
    ['1 / a', 'pair'], ['2 / b', 'pair'], ['3', 'pair'], ['4', 'pair'], ['Enter', 'pair'],
    ['↑ / ↓', 'rank'], ['Alt+↑ / Alt+↓', 'rank'], ['digits, e.g. 312', 'rank'], ['Backspace', 'rank'], ['=', 'rank'], ['-', 'rank'], ['Enter', 'rank'],
    ['Esc', 'both'], ['m', 'both'], ['j / →', 'both'], ['k / ←', 'both'], ['u', 'both'], ['s', 'both'], ['z / Ctrl+Z', 'both'],
    ['g', 'both'], ['/', 'both'], ['f', 'both'], ['n', 'both'], ['r', 'both'], ['d', 'both'], ['?', 'both'],
  ]);
  // Every key named in the help does something in its mode(s).
  const names: Record<string, string> = { '↑': 'ArrowUp', '↓': 'ArrowDown', '←': 'ArrowLeft', '→': 'ArrowRight', Esc: 'Escape' };
  const named = new Map<string, Set<string>>([['pair', new Set()], ['rank', new Set()]]);
  for (const row of rows.filter((r) => !r.keys.startsWith('digits'))) {
    for (const label of row.keys.split(' / ')) {
      const [mod, key] = label.includes('+') ? label.split('+') : ['', label];
      const press = k(names[key] ?? (mod === 'Ctrl' ? key.toLowerCase() : key), { altKey: mod === 'Alt', ctrlKey: mod === 'Ctrl' });
      for (const mode of row.mode === 'both' ? (['pair', 'rank'] as const) : [row.mode]) {
        assert.notEqual(actionFor(press, mode), null, `${label} in ${mode}`);
        named.get(mode)!.add(`${mod}+${press.key}`);
      }
    }
  }
  // And no key outside the help does anything (printable keys and the usual specials, plain and Alt).
  const candidates = [...'abcdefghijklmnopqrstuvwxyz0=-?/.,;[]', 'Enter', 'Escape', 'Tab', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'Backspace'];
  for (const mode of ['pair', 'rank'] as const) {
    for (const key of candidates) {
      for (const mod of ['', 'Alt'] as const) {
        const action = actionFor(k(key, { altKey: mod === 'Alt' }), mode);
        if (action) assert.ok(named.get(mode)!.has(`${mod}+${key}`), `${mod}+${key} in ${mode} is not in the help`);
      }
    }
  }
});
