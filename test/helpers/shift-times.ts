// Moving a raw record in time, for inputs built from copies of the demo and fixtures (test/pipeline,
// bench/pipeline.ts): every ISO 8601 UTC time in it, whatever the field, keeping its precision.
const ISO_TIME = /"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z"/g;

/** Every ISO 8601 UTC time in a record moved `ms` later, keeping whether it had fractional seconds. */
export function shiftTimes(text: string, ms: number): string {
  if (ms === 0) return text;
  return text.replace(ISO_TIME, (all: string, whole: string, frac: string | undefined) => {
    const t = Date.parse(`${whole}${frac ?? ''}Z`);
    if (Number.isNaN(t)) return all;
    const iso = new Date(t + ms).toISOString();
    return `"${frac === undefined ? iso.replace(/\.\d+Z$/, 'Z') : iso}"`;
  });
}
