import { describe, expect, it } from 'vitest';
import { sameJson } from './graph.ts';

describe('sameJson', () => {
  it('says what comparing the two JSON.stringify texts says', () => {
    const values: unknown[] = [
      'a',
      '',
      0,
      -0,
      1.5,
      NaN,
      Infinity,
      true,
      false,
      null,
      [],
      [1, 'a'],
      [undefined],
      [null],
      [() => 1],
      [NaN],
      {},
      { a: 1 },
      { a: 1, b: undefined },
      { b: undefined, a: 1 },
      { a: 1, b: 2 },
      { b: 2, a: 1 },
      { a: [1, { c: 'x' }] },
      { a: [1, { c: 'y' }] },
      { a: null },
      { a: NaN },
      { a: () => 1 },
      { username: 'u', groups: ['system:authenticated'] },
      { username: 'u', groups: ['system:authenticated', 'g'] },
      { node: undefined, learned_from: 'token' },
      { learned_from: 'token' },
      new Date(0),
      '1970-01-01T00:00:00.000Z',
      Object.assign(Object.create(null) as object, { a: 1 }),
    ];
    for (const a of values) for (const b of values) expect(sameJson(a, b), `${String(JSON.stringify(a))} vs ${String(JSON.stringify(b))}`).toBe(JSON.stringify(a) === JSON.stringify(b));
  });
});
