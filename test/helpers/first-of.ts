/** The first `n` of `xs`, and how many there were: "a, b, c (3)" or "a, b, … (2 of 120)": ids in a failure message. */
export function firstOf(xs: readonly string[], n = 10): string {
  return `${xs.slice(0, n).join(', ')}${xs.length > n ? `, … (${n} of ${xs.length})` : ` (${xs.length})`}`;
}
