/**
 * Scanning JSON text without parsing it (the depth pre-check before JSON.parse, the replay workers'
 * first pass over a file).
 */

/**
 * Index of the quote that closes the JSON string opening at `open`, or -1 when the text ends first.
 * Jumps with indexOf (most of a record's bytes are in strings); a quote after an odd run of
 * backslashes is escaped.
 */
export function closingQuote(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  while (j > 0 && text.charCodeAt(j - 1) === 0x5c) {
    let k = j - 1;
    while (text.charCodeAt(k - 1) === 0x5c) k--;
    if ((j - k) % 2 === 0) break;
    j = text.indexOf('"', j + 1);
  }
  return j;
}
