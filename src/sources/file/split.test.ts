import { describe, expect, it } from 'vitest';
import { LineSplitter, ScanSplitter, sniff, type Piece } from './split.ts';

/** Feeds `input` in chunks of `size` bytes, so record boundaries fall inside chunks. */
function run(splitter: LineSplitter | ScanSplitter, input: string, size: number): Piece[] {
  const out: Piece[] = [];
  const buf = Buffer.from(input);
  for (let i = 0; i < buf.length; i += size) splitter.push(buf.subarray(i, i + size), out);
  splitter.end(out);
  return out;
}

const texts = (ps: Piece[]): string[] => ps.map((p) => (p.kind === 'record' ? p.text : `<${p.kind}>`));

describe('sniff', () => {
  it('recognises JSONL, wrappers, arrays, pretty JSON and CloudWatch exports', () => {
    expect(sniff('{"a":1}\n{"a":2}\n')).toBe('lines');
    expect(sniff('{"Records":[{"a":1}]}\n')).toBe('scan');
    expect(sniff('{"Records":[{"a":1}]}')).toBe('scan');
    expect(sniff('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"a":1}]}\n')).toBe('scan');
    expect(sniff('[{"a":1}]')).toBe('scan');
    expect(sniff('[{"a":1}]\n"s"\n42\n')).toBe('lines');
    expect(sniff('{\n  "a": 1\n}\n')).toBe('scan');
    expect(sniff('2024-05-01T12:00:00.000Z {"kind":"Event"}\n')).toBe('lines');
    // A broken first JSONL line must not turn the whole file into one scanned value.
    expect(sniff('{"a": \n{"b":2}\n')).toBe('lines');
    // ...but a wrapper whose elements sit one per line is still a wrapper.
    expect(sniff('{"Records":[\n{"eventID":"1"},\n{"eventID":"2"}\n]}\n')).toBe('scan');
    // JSONL of batch documents, one a line: scanned, so a document over maxRecordBytes is still cut into its
    // records (a line reader would make it one oversized dead letter; review of ADR 0038)...
    expect(sniff('{"Records":[{"eventID":"1"}]}\n{"Records":[{"eventID":"2"}]}\n')).toBe('scan');
    expect(sniff('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}\n{"a":1}\n')).toBe('scan');
    // ...but other wrappers stay scanned, and so does a one-line document with nothing after it.
    expect(sniff('{"events":[{"message":"{}","timestamp":1}]}\n{"events":[]}\n')).toBe('scan');
    expect(sniff('{"Records":[{"eventID":"1"}]}\n\n')).toBe('scan');
  });
});

describe('LineSplitter', () => {
  for (const size of [1, 3, 7, 1024]) {
    it(`cuts lines across chunk boundaries (chunk=${size})`, () => {
      const out = run(new LineSplitter(1000), '{"a":1}\r\n\n{"b":"x\\ny"}\n{"c":3}', size);
      expect(texts(out)).toEqual(['{"a":1}', '{"b":"x\\ny"}', '{"c":3}']);
      expect(out.map((p) => p.line)).toEqual([1, 3, 4]);
    });
  }

  it('reports oversized lines with their size and keeps going', () => {
    const big = `{"x":"${'a'.repeat(5000)}"}`;
    const out = run(new LineSplitter(100), `{"a":1}\n${big}\n{"b":2}\n`, 64);
    expect(texts(out)).toEqual(['{"a":1}', '<oversized>', '{"b":2}']);
    const o = out[1]!;
    expect(o.kind === 'oversized' && o.bytes).toBe(big.length);
    expect(o.kind === 'oversized' && o.offset).toBe(8);
  });

  it('strips the timestamp prefix of CloudWatch Logs exports', () => {
    const out = run(new LineSplitter(1000), '2024-05-01T12:00:00.000Z {"a":1}\n2024-05-01T12:00:01.500Z {"b":2}\n', 5);
    expect(texts(out)).toEqual(['{"a":1}', '{"b":2}']);
  });
});

describe('ScanSplitter', () => {
  for (const size of [1, 5, 4096]) {
    it(`cuts CloudTrail Records elements (chunk=${size})`, () => {
      const doc = '{"Records":[{"eventID":"1","p":{"q":"a]}"}},{"eventID":"2","s":"\\"}{"}]}';
      expect(texts(run(new ScanSplitter(1000), doc, size))).toEqual(['{"eventID":"1","p":{"q":"a]}"}}', '{"eventID":"2","s":"\\"}{"}']);
    });
  }

  it('cuts top-level array elements and pretty-printed concatenated objects', () => {
    expect(texts(run(new ScanSplitter(1000), '[\n {"a":1},\n {"b":[1,2]}\n]\n', 3))).toEqual(['{"a":1}', '{"b":[1,2]}']);
    expect(texts(run(new ScanSplitter(1000), '{\n "a": 1\n}\n{\n "b": {"c": 2}\n}\n', 2))).toEqual(['{\n "a": 1\n}', '{\n "b": {"c": 2}\n}']);
  });

  it('finds the events array of filter-log-events output after other keys', () => {
    const doc = '{"searchedLogStreams":[{"logStreamName":"s"}],"events":[{"message":"{}","timestamp":1}],"nextToken":"t","more":[{"x":1}]}';
    expect(texts(run(new ScanSplitter(1000), doc, 4))).toEqual(['{"message":"{}","timestamp":1}']);
  });

  it('unwraps a wrapper that follows a plain top-level object (concatenated values)', () => {
    // The plain object's last key left "a value is expected" set; the next object's first key was not read as a key.
    const input = '{"a":1,"b":"x"}\n{"Records":[{"eventID":"1"},{"eventID":"2"}]}\n{"c":{"d":1}}\n{"events":[{"message":"{}","timestamp":1}]}\n';
    for (const size of [1, 7, 4096]) {
      expect(texts(run(new ScanSplitter(1000), input, size))).toEqual(['{"a":1,"b":"x"}', '{"eventID":"1"}', '{"eventID":"2"}', '{"c":{"d":1}}', '{"message":"{}","timestamp":1}']);
    }
  });

  it('reports an input that ends inside a record as truncated', () => {
    const out = run(new ScanSplitter(1000), '{"Records":[{"eventID":"1"},{"eventID":"2","x":', 8);
    expect(out.map((p) => p.kind)).toEqual(['record', 'truncated']);
  });

  it('skips oversized elements without holding them', () => {
    const big = `{"x":"${'a'.repeat(10_000)}"}`;
    const out = run(new ScanSplitter(200), `{"Records":[{"a":1},${big},{"b":2}]}`, 100);
    expect(texts(out)).toEqual(['{"a":1}', '<oversized>', '{"b":2}']);
  });

  it('cuts a CloudWatch Logs subscription payload\'s log events, each told the payload\'s fields read on the way (ADR 0039)', () => {
    const payload = (n: number, group = 'g', keys?: string[]): string =>
      JSON.stringify(
        { messageType: 'DATA_MESSAGE', owner: '111122223333', logGroup: group, logStream: 's"x', subscriptionFilters: [], logEvents: Array.from({ length: n }, (_, i) => ({ id: String(i), timestamp: i, message: `{"a":${i}}` })) },
        keys,
      );
    const doc = { messageType: 'DATA_MESSAGE', owner: '111122223333', logGroup: 'g', logStream: 's"x' };
    for (const size of [3, 7, 64, 4096]) {
      // Firehose writes them one after another, without a separator; the second payload's fields are its own.
      const out = run(new ScanSplitter(1000), payload(2) + payload(1, 'h'), size);
      expect(out.map((p) => (p.kind === 'record' ? [p.text, p.doc] : p.kind))).toEqual([
        ['{"id":"0","timestamp":0,"message":"{\\"a\\":0}"}', doc],
        ['{"id":"1","timestamp":1,"message":"{\\"a\\":1}"}', doc],
        ['{"id":"0","timestamp":0,"message":"{\\"a\\":0}"}', { ...doc, logGroup: 'h' }],
      ]);
    }
    // Another wrapper's records, and a payload whose keys come after logEvents (sorted), carry no payload fields.
    expect(run(new ScanSplitter(1000), '{"logEvents":[{"message":"{}","timestamp":1}]}', 7).map((p) => (p.kind === 'record' ? p.doc : p.kind))).toEqual([undefined]);
    const sorted = payload(1, 'g', ['logEvents', 'id', 'timestamp', 'message', 'logGroup', 'logStream', 'messageType', 'owner', 'subscriptionFilters']);
    expect(run(new ScanSplitter(1000), sorted, 5).map((p) => (p.kind === 'record' ? p.doc : p.kind))).toEqual([undefined]);
    // A payload cut short: the events before the cut are read, the last one is truncated.
    const cut = payload(3);
    expect(run(new ScanSplitter(1000), cut.slice(0, cut.length - 20), 9).map((p) => p.kind)).toEqual(['record', 'record', 'truncated']);
  });

  it('cuts a Splunk search\'s JSON results into its results (each holding the record as _raw)', () => {
    const doc = JSON.stringify({ preview: false, init_offset: 0, messages: [], fields: [{ name: '_raw' }], results: [{ _raw: '{"a":1}' }, { _raw: '{"a":2}', _time: 't' }] });
    expect(sniff(doc)).toBe('scan');
    expect(sniff(doc + '\n' + doc + '\n')).toBe('scan');
    for (const size of [5, 64, 4096]) {
      expect(run(new ScanSplitter(1000), doc, size).map((p) => (p.kind === 'record' ? p.text : p.kind))).toEqual(['{"_raw":"{\\"a\\":1}"}', '{"_raw":"{\\"a\\":2}","_time":"t"}']);
    }
  });

});
