/**
 * The event timestamp rule: `ts` is an ISO-8601 date-time with a zone that the pattern below matches and
 * Date.parse reads. The validator decides everyday times with a character scan (isEverydayTimestamp) and
 * leaves the rest to the pattern and Date.parse; these tests hold the scan to that rule: every value it
 * accepts is one the rule accepts (all values of each field, every shape), it accepts the everyday forms,
 * and over random near-misses it never accepts what the rule refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEverydayTimestamp, validateAnnotationEvent } from '../../src/core/annotationEvents';

/** The rule, written independently of the validator. */
const PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const ruleAccepts = (ts: string) => PATTERN.test(ts) && Number.isFinite(Date.parse(ts));

const pad = (n: number) => String(n).padStart(2, '0');
/** Every shape of the part after the minutes: none, seconds, seconds with 1 to 9 fraction digits. */
const SECONDS = ['', ':07', ...Array.from({ length: 9 }, (_, k) => `:07.${'123456789'.slice(0, k + 1)}`)];
const ZONES = ['Z', '+05:30', '-0800', '+00:00', '-23:59', '+2359'];

function time(f: { year?: string; month?: number; day?: number; hour?: number; minute?: number; second?: string; zone?: string }): string {
  return `${f.year ?? '2026'}-${pad(f.month ?? 1)}-${pad(f.day ?? 5)}T${pad(f.hour ?? 9)}:${pad(f.minute ?? 30)}${f.second ?? ':07.543'}${f.zone ?? 'Z'}`;
}

test('every field value in its everyday range, in every shape, is accepted by the scan and by the rule', () => {
  const cases: string[] = [];
  for (const second of SECONDS) for (const zone of ZONES) cases.push(time({ second, zone }));
  for (let month = 1; month <= 12; month++) for (let day = 1; day <= 31; day++) cases.push(time({ month, day }), time({ month, day, year: '2024' }), time({ month, day, year: '0000' }));
  for (let hour = 0; hour <= 23; hour++) for (let minute = 0; minute <= 59; minute++) cases.push(time({ hour, minute, second: '' }));
  for (let s = 0; s <= 59; s++) cases.push(time({ second: `:${pad(s)}` }), time({ second: `:${pad(s)}.9`, zone: '-01:00' }));
  for (let h = 0; h <= 23; h++) for (let m = 0; m <= 59; m++) cases.push(time({ zone: `+${pad(h)}:${pad(m)}` }), time({ zone: `-${pad(h)}${pad(m)}` }));
  for (const ts of cases) {
    assert.ok(isEverydayTimestamp(ts), `scan refused ${ts}`);
    assert.ok(ruleAccepts(ts), `rule refused ${ts}`);
  }
  assert.ok(cases.length > 5000, `${cases.length} cases`);
});

test('out-of-range fields and malformed shapes are left to the rule, which decides as before', () => {
  const edges = [
    time({ month: 0 }), time({ month: 13 }), time({ day: 0 }), time({ day: 32 }), time({ hour: 24, minute: 0, second: ':00.000' }), time({ hour: 24 }),
    time({ minute: 60 }), time({ second: ':60' }), time({ zone: '+24:00' }), time({ zone: '+23:60' }), time({ second: ':07.1234567890' }), time({ second: ':07.' }),
    '2026-01-05T09:30', '2026-01-05 09:30Z', '2026-1-05T09:30Z', '2026-01-05T09:30:07.5z', '2026-01-05T09:30+05:3', '2026-01-05T09:30+05:300', '',
    '2026-01-05T09:30:07.543Z ', ' 2026-01-05T09:30:07.543Z', '20260-01-05T09:30Z', '2026-01-05T09:30Z\n',
  ];
  for (const ts of edges) assert.equal(isEverydayTimestamp(ts), false, ts);
  // 24:00 is a real time to Date.parse: the full rule still accepts it
  assert.equal(validateAnnotationEvent({ v: 1, item: 'x', annotator: 'a', ts: time({ hour: 24, minute: 0, second: ':00' }), kind: 'undo' }).problems.length, 0);
  assert.match(validateAnnotationEvent({ v: 1, item: 'x', annotator: 'a', ts: time({ month: 13 }), kind: 'undo' }).problems[0].message, /ISO-8601/);
});

test('over random near-misses the scan never accepts what the rule refuses', () => {
  let seed = 17;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const alphabet = '0123456789-+:.TZz 9';
  let accepted = 0;
  for (let k = 0; k < 200_000; k++) {
    let ts = time({ month: 1 + rand(14), day: rand(33), hour: rand(26), minute: rand(62), second: SECONDS[rand(SECONDS.length)], zone: ZONES[rand(ZONES.length)] });
    for (let edits = rand(3); edits > 0; edits--) {
      const at = rand(ts.length + 1), c = alphabet[rand(alphabet.length)];
      const op = rand(3);
      ts = op === 0 ? ts.slice(0, at) + c + ts.slice(at) : op === 1 ? ts.slice(0, at) + ts.slice(at + 1) : ts.slice(0, at) + c + ts.slice(at + 1);
    }
    if (isEverydayTimestamp(ts)) {
      accepted++;
      assert.ok(ruleAccepts(ts), `scan accepted ${JSON.stringify(ts)}, the rule refuses it`);
    }
  }
  assert.ok(accepted > 10_000, `only ${accepted} accepted: the sample does not reach the scan's accepting paths`);
});
