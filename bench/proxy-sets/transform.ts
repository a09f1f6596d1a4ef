/**
 * The reshaping make.ts does for the H3llKa1ser set (its other sets are copies), apart so it can be unit-tested:
 * reads the hand-written cases of a Python Sigma test file without running Python.
 */
import { NotLiteral, PyReader, type PyValue } from '../lib/python-literal.ts';

type Obj = { [k: string]: PyValue };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One case as bench/lib/proxy-sets.ts h3llka1serSigma reads tests/sigma/expectations.json. */
export interface H3llka1serCase {
  rule: string;
  name: string;
  expected: boolean;
  record: Obj;
}

/** The literal after `marker` in Python source (a dict or list), read without running Python. */
function pyLiteralAfter(src: string, marker: RegExp, what: string): PyValue {
  const m = marker.exec(src);
  if (m === null) throw new Error(`${what}: ${marker} not found`);
  const r = new PyReader(src, m.index + m[0].length);
  r.skip();
  return r.value();
}

/**
 * H3llKa1ser/AWS-Detection-Engineering-Lab tests/sigma/test_sigma.py -> tests/sigma/expectations.json. The test file's
 * `test_lab_rules_hand_written_expectations` holds, per lab rule, cases of (changes, expected[, cloudwatch_expected]):
 * `check_expectations` starts each case from `base_event(i)` and sets every dotted field of `changes` (None stays a
 * JSON null, as set_path keeps it). The base event is read from `base_event`'s own return literal, its eventTime
 * (computed there from the clock) set here to a fixed time i seconds apart; the bench moves every sample onto its own
 * day anyway.
 */
export function h3llka1serExpectations(src: string): H3llka1serCase[] {
  const at = src.indexOf('def base_event(');
  const ret = at < 0 ? -1 : src.indexOf('return {', at);
  if (ret < 0) throw new Error('test_sigma.py: base_event() not found');
  // The only non-literal in it is the clock (t.strftime(...)); a placeholder string stands in for it.
  let base: PyValue = null;
  try {
    base = new PyReader(src.slice(ret + 'return '.length).replace(/\bt\.strftime\([^)]*\)/, '"TIME"')).value();
  } catch (e) {
    if (!(e instanceof NotLiteral)) throw e;
  }
  if (!isObj(base) || base.eventTime !== 'TIME') throw new Error('test_sigma.py: base_event() is not the literal this builder knows');
  const expectations = pyLiteralAfter(src, /def test_lab_rules_hand_written_expectations\(\):[\s\S]*?\n\s+expectations = /, 'test_sigma.py');
  if (!isObj(expectations)) throw new Error('test_sigma.py: expectations is not a dict');
  const cases: H3llka1serCase[] = [];
  for (const [rule, list] of Object.entries(expectations)) {
    if (!Array.isArray(list)) throw new Error(`test_sigma.py: ${rule}'s cases are not a list`);
    list.forEach((c, i) => {
      if (!Array.isArray(c) || !isObj(c[0]) || typeof c[1] !== 'boolean') throw new Error(`test_sigma.py: ${rule} case ${i} is not (changes, expected)`);
      const record = structuredClone(base) as Obj;
      // check_expectations numbers the cases of one rule from 0: base_event(i) is i seconds after the first.
      record.eventTime = new Date(Date.UTC(2025, 0, 1, 10, 0, i)).toISOString().replace('.000Z', 'Z');
      for (const [field, value] of Object.entries(c[0])) {
        const segs = field.split('.');
        let node: Obj = record;
        for (const seg of segs.slice(0, -1)) {
          if (!isObj(node[seg])) node[seg] = {};
          node = node[seg] as Obj;
        }
        node[segs.at(-1)!] = value;
      }
      cases.push({ rule, name: `${rule} case ${i + 1}`, expected: c[1], record });
    });
  }
  return cases;
}
