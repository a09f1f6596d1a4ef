/**
 * JavaScript regular expressions as a syntax tree, read by `@eslint-community/regexpp` (the parser ESLint
 * uses, maintained against each ECMAScript edition). The streaming engine's literal extraction
 * (src/detect/sigma/regex-literal.ts) and the hunting compiler's Lucene translation (src/hunt/regex.ts)
 * both read this tree, so they agree on what a pattern means (escapes, Annex B quirks, classes).
 */
import { RegExpParser, RegExpSyntaxError } from '@eslint-community/regexpp';
import type { AST } from '@eslint-community/regexpp';

export type { AST };

/**
 * ES2024 is the syntax Node 20's V8 accepts (the `v` flag, no modifiers `(?i:...)` or duplicate group
 * names), and Annex B (non-strict) is what `new RegExp` reads outside unicode mode: `\1` without groups
 * is an octal escape, `a{` a literal brace.
 */
const parser = new RegExpParser({ ecmaVersion: 2024, strict: false });

export class JsRegexSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/** The tree of `source` read as `new RegExp(source, flags)` reads it; a syntax error throws JsRegexSyntaxError. */
export function parseJsRegex(source: string, flags: string): AST.Pattern {
  try {
    return parser.parsePattern(source, 0, source.length, { unicode: flags.includes('u'), unicodeSets: flags.includes('v') });
  } catch (e) {
    if (e instanceof RegExpSyntaxError) throw new JsRegexSyntaxError(e.message, e.index);
    throw e;
  }
}

/**
 * A leading inline-flag group (`(?i)`, `(?ims)`: PCRE/Python syntax that Sigma rules use and JavaScript
 * lacks) taken off the pattern, its flags added to `flags`. `x` (extended) is reported, not added:
 * JavaScript has no such flag.
 */
export function splitInlineFlags(src: string, flags: string): { source: string; flags: string; extended: boolean } {
  const m = /^\(\?([imsx]+)\)/.exec(src);
  if (!m) return { source: src, flags, extended: false };
  let f = flags;
  for (const ch of m[1]!) if (ch !== 'x' && !f.includes(ch)) f += ch;
  return { source: src.slice(m[0].length), flags: f, extended: m[1]!.includes('x') };
}
