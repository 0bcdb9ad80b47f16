/**
 * The namespaces found so far in one event (name → its replacement), and the search for their bare
 * mentions ("secret accessed in prod ns") in every string of that event.
 *
 * Speed: every string of an event, and the whole request body, is searched for every learned name,
 * from its least common character on (search.ts: `payments` as `yments`, ~0.5 µs instead of ~4 µs on
 * a 10 KB body).
 */
import type { Matches } from "./matches.ts";
import { Needle } from "./search.ts";

/** A character that can continue a namespace-like word: a mention must not be part of a longer one. */
export function isNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
}

export class LearnedNamespaces {
  private readonly names: string[] = [];
  private readonly replacements: string[] = [];
  private readonly needles: Needle[] = [];

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  add(name: string, replacement: string): void {
    this.names.push(name);
    this.replacements.push(replacement);
    this.needles.push(new Needle(name));
  }

  /** True when some learned name occurs in `text` (as a word or not). */
  occursIn(text: string): boolean {
    for (const needle of this.needles) if (needle.indexIn(text, 0) !== -1) return true;
    return false;
  }

  /**
   * Adds each whole-word occurrence of a learned name in `text` (not inside `prod-db` or
   * `production`) to `out`, with its replacement.
   */
  findMentions(text: string, out: Matches): void {
    for (let n = 0; n < this.names.length; n++) {
      const length = (this.names[n] as string).length;
      const needle = this.needles[n] as Needle;
      for (let i = needle.indexIn(text, 0); i !== -1; i = needle.indexIn(text, i + length)) {
        const before = i > 0 ? text.charCodeAt(i - 1) : 32;
        const end = i + length;
        const after = end < text.length ? text.charCodeAt(end) : 32;
        if (!isNameChar(before) && !isNameChar(after))
          out.add(i, end, this.replacements[n] as string, "namespace");
      }
    }
  }
}
