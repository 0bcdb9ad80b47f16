/**
 * The namespaces found so far in one event (name → its replacement), and the search for their bare
 * mentions ("secret accessed in prod ns") in every string of that event.
 *
 * Speed: every string of an event, and the whole request body, is searched for every learned name.
 * `indexOf` is as slow as the first character it looks for is common (it stops at each occurrence of
 * it), and namespace names start with common letters (`payments`: ~4 µs on a 10 KB body). So each
 * name is searched from its least common character on (`yments`, ~0.5 µs) and the skipped prefix is
 * compared at each hit: the same occurrences, found faster.
 */
import type { Matches } from "./matches.ts";

/** Letters, digits and `-` (what a namespace is made of), most common first in English text and JSON. */
const commonFirst = "etaoinsrhldcu0m1p2f-g3w5y4b6v9k78xjqz";

function rarity(code: number): number {
  const lower = code >= 65 && code <= 90 ? code + 32 : code;
  const rank = commonFirst.indexOf(String.fromCharCode(lower));
  return rank === -1 ? commonFirst.length : rank;
}

/** Where in `name` the search starts: its least common character (the first of equals). */
export function anchorOf(name: string): number {
  let best = 0;
  let bestRarity = -1;
  for (let i = 0; i < name.length; i++) {
    const r = rarity(name.charCodeAt(i));
    if (r > bestRarity) {
      best = i;
      bestRarity = r;
    }
  }
  return best;
}

/** A character that can continue a namespace-like word: a mention must not be part of a longer one. */
export function isNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
}

export class LearnedNamespaces {
  private readonly names: string[] = [];
  private readonly replacements: string[] = [];
  /** Per name: its anchor offset, the text searched for (from the anchor on) and the prefix before it. */
  private readonly anchors: number[] = [];
  private readonly suffixes: string[] = [];
  private readonly prefixes: string[] = [];

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  add(name: string, replacement: string): void {
    const anchor = anchorOf(name);
    this.names.push(name);
    this.replacements.push(replacement);
    this.anchors.push(anchor);
    this.suffixes.push(name.slice(anchor));
    this.prefixes.push(name.slice(0, anchor));
  }

  /** `text.indexOf(names[n], from)`. */
  private indexOf(text: string, n: number, from: number): number {
    const anchor = this.anchors[n] as number;
    const suffix = this.suffixes[n] as string;
    const prefix = this.prefixes[n] as string;
    for (let j = text.indexOf(suffix, from + anchor); j !== -1; j = text.indexOf(suffix, j + 1)) {
      if (anchor === 0 || text.startsWith(prefix, j - anchor)) return j - anchor;
    }
    return -1;
  }

  /** True when some learned name occurs in `text` (as a word or not). */
  occursIn(text: string): boolean {
    for (let n = 0; n < this.names.length; n++) if (this.indexOf(text, n, 0) !== -1) return true;
    return false;
  }

  /**
   * Adds each whole-word occurrence of a learned name in `text` (not inside `prod-db` or
   * `production`) to `out`, with its replacement.
   */
  findMentions(text: string, out: Matches): void {
    for (let n = 0; n < this.names.length; n++) {
      const length = (this.names[n] as string).length;
      for (let i = this.indexOf(text, n, 0); i !== -1; i = this.indexOf(text, n, i + length)) {
        const before = i > 0 ? text.charCodeAt(i - 1) : 32;
        const end = i + length;
        const after = end < text.length ? text.charCodeAt(end) : 32;
        if (!isNameChar(before) && !isNameChar(after))
          out.add(i, end, this.replacements[n] as string, "namespace");
      }
    }
  }
}
