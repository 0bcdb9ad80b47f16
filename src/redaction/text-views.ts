/**
 * Decoded views of a string, for the rules to see through escaping. A secret in a JSON body may be
 * written `https:\/\/user:pass@host` or `\u0061lice@example.com`; one in a form body
 * `alice%40example.com`. Rules run on a view and every finding is mapped back to the source range
 * it came from (whole escape sequences, never half of one).
 *
 * The JSON view decodes `\/`, `\b \f \n \r \t` and `\uXXXX`, but keeps `\"` and `\\` (and the
 * `\u0022`/`\u005c` spellings of them) as they are: a rule must not mistake an escaped quote for the
 * end of a JSON string, or a replacement could swallow a structural quote and break the document.
 *
 * A view is a list of segments (a run copied as is, or one decoded escape), so building one costs a
 * few slices per escape, not work per character; mapping a position is a binary search, done only
 * for findings.
 */

/** A decoded string and the source range each of its characters came from. */
export interface TextView {
  readonly text: string;
  /** Source index where view character `i` starts. */
  sourceStart(i: number): number;
  /** Source index just past view character `i`. */
  sourceEnd(i: number): number;
  /**
   * For a percent-decoded view of JSON: findings are cut at the first raw `"` of the source they
   * cover (a decoded `%22` or `%5C` must not make a rule run across JSON structure).
   */
  readonly clipAtRawQuote: string | undefined;
}

class SegmentView implements TextView {
  /** Per segment: first view index, first source index, and source end for an escape (-1 for a copied run). */
  private readonly viewStarts: number[] = [];
  private readonly sourceStarts: number[] = [];
  private readonly escapeEnds: number[] = [];
  private readonly parts: string[] = [];
  private length = 0;
  text = "";
  clipAtRawQuote: string | undefined = undefined;

  run(text: string, sourceStart: number): void {
    if (text.length === 0) return;
    this.viewStarts.push(this.length);
    this.sourceStarts.push(sourceStart);
    this.escapeEnds.push(-1);
    this.parts.push(text);
    this.length += text.length;
  }

  escape(code: number, sourceStart: number, sourceEnd: number): void {
    this.viewStarts.push(this.length);
    this.sourceStarts.push(sourceStart);
    this.escapeEnds.push(sourceEnd);
    this.parts.push(String.fromCharCode(code));
    this.length += 1;
  }

  finish(): TextView {
    this.text = this.parts.join("");
    this.parts.length = 0;
    return this;
  }

  private segmentOf(i: number): number {
    const starts = this.viewStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  sourceStart(i: number): number {
    const s = this.segmentOf(i);
    const escapeEnd = this.escapeEnds[s] as number;
    return escapeEnd === -1
      ? (this.sourceStarts[s] as number) + i - (this.viewStarts[s] as number)
      : (this.sourceStarts[s] as number);
  }

  sourceEnd(i: number): number {
    const s = this.segmentOf(i);
    const escapeEnd = this.escapeEnds[s] as number;
    return escapeEnd === -1
      ? (this.sourceStarts[s] as number) + i - (this.viewStarts[s] as number) + 1
      : escapeEnd;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** `\/ \b \f \n \r \t` → the character they stand for. */
function simpleEscape(c: number): number {
  switch (c) {
    case 47:
      return 47;
    case 98:
      return 8;
    case 102:
      return 12;
    case 110:
      return 10;
    case 114:
      return 13;
    case 116:
      return 9;
    default:
      return -1;
  }
}

/** The JSON-unescaped view of `source`, or `undefined` when it holds no escape worth decoding. */
export function jsonEscapeView(source: string): TextView | undefined {
  const n = source.length;
  let view: SegmentView | undefined;
  let runStart = 0;
  let i = source.indexOf("\\");
  while (i !== -1 && i + 1 < n) {
    const e = source.charCodeAt(i + 1);
    let code = simpleEscape(e);
    let length = 2;
    if (code === -1 && e === 117 /* u */ && i + 5 < n) {
      const h0 = hexValue(source.charCodeAt(i + 2));
      const h1 = hexValue(source.charCodeAt(i + 3));
      const h2 = hexValue(source.charCodeAt(i + 4));
      const h3 = hexValue(source.charCodeAt(i + 5));
      if (h0 >= 0 && h1 >= 0 && h2 >= 0 && h3 >= 0) {
        const unit = (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
        if (unit !== 34 && unit !== 92) {
          code = unit;
          length = 6;
        }
      }
    }
    if (code === -1) {
      // `\"`, `\\` (kept as written; an escaped backslash must not start a new escape) or unknown.
      i = source.indexOf("\\", e === 92 || e === 34 ? i + 2 : i + 1);
      continue;
    }
    view ??= new SegmentView();
    view.run(source.slice(runStart, i), runStart);
    view.escape(code, i, i + length);
    runStart = i + length;
    i = source.indexOf("\\", runStart);
  }
  if (view === undefined) return undefined;
  view.run(source.slice(runStart), runStart);
  return view.finish();
}

/** The percent-decoded view of `source` (`%XX` as one character, `+` as a space), or `undefined`. */
export function percentView(source: string): TextView | undefined {
  const n = source.length;
  let view: SegmentView | undefined;
  let runStart = 0;
  for (let i = source.indexOf("%"); i !== -1 && i + 2 < n; ) {
    const h0 = hexValue(source.charCodeAt(i + 1));
    const h1 = hexValue(source.charCodeAt(i + 2));
    if (h0 < 0 || h1 < 0) {
      i = source.indexOf("%", i + 1);
      continue;
    }
    view ??= new SegmentView();
    view.run(source.slice(runStart, i).replaceAll("+", " "), runStart);
    view.escape((h0 << 4) | h1, i, i + 3);
    runStart = i + 3;
    i = source.indexOf("%", runStart);
  }
  if (view === undefined) return undefined;
  view.run(source.slice(runStart).replaceAll("+", " "), runStart);
  view.clipAtRawQuote = source;
  return view.finish();
}
