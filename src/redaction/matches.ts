/**
 * Findings of one string scan, as half-open intervals `[start, end)` of the source string, each with
 * its replacement and kind. Rules only report; `applyMatches` decides. Overlapping findings are
 * merged into their union (so whatever any rule found is covered) and the union takes the
 * replacement of its most specific member (lowest rule priority). Reusing one `Matches` for every
 * string of a call keeps the common case (nothing found) free of allocations.
 */
import { kindIndex, type RedactionKind, type Tally } from "./kinds.ts";
import type { TextView } from "./text-views.ts";

/** What a finding is in: an object key, a value, or the text given to `redactText`. */
export type FindingTarget = "key" | "value" | "text";

/** One merged redaction, as reported by the dry run: where, and of which kind; never what. */
export interface RedactionFinding {
  readonly kind: RedactionKind;
  /**
   * Where, in `redactValue`'s *output*: the JSON Pointer (RFC 6901, built from redacted keys, so it
   * holds no secret) of the value, or of the object holding the key for `target: "key"`; `""` for
   * the top level and for `redactText`.
   */
  readonly path: string;
  readonly target: FindingTarget;
  /** Offsets in the original string (UTF-16 code units), end exclusive. */
  readonly start: number;
  readonly end: number;
}

export class Matches {
  private starts: number[] = [];
  private ends: number[] = [];
  private replacements: string[] = [];
  private kinds: RedactionKind[] = [];
  private priorities: number[] = [];
  private order: number[] = [];
  /** How many findings are held. */
  size = 0;
  /** Priority given to findings added from now on (the running rule's index). */
  priority = 0;
  /** When set, added intervals are in this view's coordinates and are mapped to the source. */
  view: TextView | undefined = undefined;

  reset(): void {
    this.size = 0;
    this.view = undefined;
  }

  /** Records that `[start, end)` must become `replacement`. Empty intervals are ignored. */
  add(start: number, end: number, replacement: string, kind: RedactionKind): void {
    if (end <= start) return;
    const view = this.view;
    if (view !== undefined) {
      const viewEnd = end;
      start = view.sourceStart(start);
      end = view.sourceEnd(viewEnd - 1);
      const source = view.clipAtRawQuote;
      if (source !== undefined) {
        const quote = source.indexOf('"', start);
        if (quote !== -1 && quote < end) end = quote;
        if (end <= start) return;
      }
    }
    const i = this.size++;
    this.starts[i] = start;
    this.ends[i] = end;
    this.replacements[i] = replacement;
    this.kinds[i] = kind;
    this.priorities[i] = this.priority;
  }

  /**
   * The source with every finding replaced; counts each merged interval once under its winning kind.
   */
  apply(
    source: string,
    tally: Tally,
    findings?: RedactionFinding[],
    path?: string,
    target?: FindingTarget,
  ): string {
    const n = this.size;
    const order = this.order;
    order.length = n;
    for (let i = 0; i < n; i++) order[i] = i;
    const starts = this.starts;
    if (n > 1) order.sort((a, b) => (starts[a] as number) - (starts[b] as number) || a - b);
    let out = "";
    let written = 0;
    let k = 0;
    while (k < n) {
      const first = order[k] as number;
      const start = starts[first] as number;
      let end = this.ends[first] as number;
      let best = first;
      k++;
      while (k < n) {
        const next = order[k] as number;
        if ((starts[next] as number) >= end) break;
        end = Math.max(end, this.ends[next] as number);
        if ((this.priorities[next] as number) < (this.priorities[best] as number)) best = next;
        k++;
      }
      const kind = this.kinds[best] as RedactionKind;
      // Never cut an escape sequence (`\"`, `\n`, `\u0041`) in two, or a JSON body would break: a
      // replacement that starts inside one takes it whole, one that ends inside one stops before it.
      const startEscape = escapeAround(source, start, written);
      const from = startEscape === -1 ? start : startEscape;
      const endEscape = escapeAround(source, end, from);
      const to = endEscape === -1 ? end : endEscape;
      out += source.slice(written, from) + (this.replacements[best] as string);
      written = to;
      tally[kindIndex[kind]] = (tally[kindIndex[kind]] as number) + 1;
      findings?.push({ kind, path: path ?? "", target: target ?? "value", start: from, end: to });
    }
    return out + source.slice(written);
  }
}

/**
 * When `i` falls strictly inside a backslash escape (`\x`, or `\uXXXX`) that starts at or after `lo`,
 * the index of its backslash; else -1. A backslash escapes only if an odd run of them ends there.
 */
function escapeAround(source: string, i: number, lo: number): number {
  for (let b = i - 1; b >= lo && b >= i - 5; b--) {
    if (source.charCodeAt(b) !== 92) continue;
    let run = 1;
    while (b - run >= lo && source.charCodeAt(b - run) === 92) run++;
    if (run % 2 === 0) return -1; // an escaped backslash: no escape is open here
    const length = source.charCodeAt(b + 1) === 117 /* u */ ? 6 : 2;
    return b + length > i ? b : -1;
  }
  return -1;
}
