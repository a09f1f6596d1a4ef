import { describe, expect, it } from 'vitest';
import { h3llka1serExpectations } from './transform.ts';

// A made-up test file of the same shape: a base event built from the clock, then per rule (changes, expected[, cw]).
const SRC = `
NOW = datetime.now(timezone.utc)

def base_event(i=0):
    t = NOW - timedelta(hours=2) + timedelta(seconds=i)
    return {"eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventName": "Noop",
            "userIdentity": {"type": "IAMUser", "userName": "x"}, "requestParameters": {}}


def test_lab_rules_hand_written_expectations():
    rules = lab_rules()
    expectations = {
        "rule_a": [
            ({"eventName": "DeleteThing", "userIdentity.invokedBy": None}, True),   # a comment
            ({"eventName": "DeleteThing", "requestParameters.deep.flag": False}, False, True)],
        "rule_b": [({"userIdentity.type": "Root"}, True)],
    }
    for slug, cases in expectations.items():
        check_expectations(rules[slug], cases)


def test_fixture_rules_hand_written_expectations():
    expectations = {"fixture": [({"eventName": "Other"}, True)]}
`;

describe('h3llka1serExpectations', () => {
  it('applies each case of the lab rules to the base event, dotted fields nested, None as null', () => {
    const cases = h3llka1serExpectations(SRC);
    expect(cases.map((c) => [c.name, c.expected])).toEqual([
      ['rule_a case 1', true],
      ['rule_a case 2', false],
      ['rule_b case 1', true],
    ]);
    expect(cases[0]!.record).toEqual({
      eventTime: '2025-01-01T10:00:00Z',
      eventName: 'DeleteThing',
      userIdentity: { type: 'IAMUser', userName: 'x', invokedBy: null },
      requestParameters: {},
    });
    expect(cases[1]!.record.eventTime).toBe('2025-01-01T10:00:01Z');
    expect(cases[1]!.record.requestParameters).toEqual({ deep: { flag: false } });
    // Each case starts from its own copy of the base event.
    expect(cases[2]!.record.userIdentity).toEqual({ type: 'Root', userName: 'x' });
    expect(cases[2]!.record.eventName).toBe('Noop');
  });

  it('refuses a file whose base event is not the literal it knows', () => {
    expect(() => h3llka1serExpectations(SRC.replace('t.strftime("%Y-%m-%dT%H:%M:%SZ")', 'stamp(t)'))).toThrow(/base_event/);
    expect(() => h3llka1serExpectations('def other(): pass\n')).toThrow(/base_event\(\) not found/);
  });
});
