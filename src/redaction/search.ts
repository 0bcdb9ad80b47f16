/**
 * Substring search that starts from the needle's least common character. `indexOf` stops at every
 * occurrence of the first character it looks for, so it is as slow as that character is common:
 * on a 10 KB JSON body, `"payments"` takes ~4 µs (every "p"), `"yments"` ~0.5 µs. A `Needle` searches
 * for the part of the text from its rarest character on and compares the skipped prefix at each hit:
 * exactly the occurrences `indexOf` finds, in the same order.
 */

/**
 * Characters by how common they are in English text, JSON and Kubernetes names, most common first;
 * anything not listed counts as rarer than all of them. Only the order matters, and a poor guess only
 * costs speed, never a result.
 */
const commonFirst = 'etaoinsr"hl:dcu,0m1p2f-g.3w/5y4b6v_9k78 xjqz';

function rarity(code: number): number {
  const lower = code >= 65 && code <= 90 ? code + 32 : code;
  const rank = commonFirst.indexOf(String.fromCharCode(lower));
  return rank === -1 ? commonFirst.length : rank;
}

/** Where in `needle` the search starts: its least common character (the first of equals). */
export function anchorOf(needle: string): number {
  let best = 0;
  let bestRarity = -1;
  for (let i = 0; i < needle.length; i++) {
    const r = rarity(needle.charCodeAt(i));
    if (r > bestRarity) {
      best = i;
      bestRarity = r;
    }
  }
  return best;
}

/** A fixed string to search for, prepared once. */
export class Needle {
  readonly text: string;
  private readonly anchor: number;
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(text: string) {
    this.text = text;
    this.anchor = anchorOf(text);
    this.prefix = text.slice(0, this.anchor);
    this.suffix = text.slice(this.anchor);
  }

  /** `haystack.indexOf(this.text, from)`. */
  indexIn(haystack: string, from: number): number {
    const anchor = this.anchor;
    for (
      let j = haystack.indexOf(this.suffix, from + anchor);
      j !== -1;
      j = haystack.indexOf(this.suffix, j + 1)
    ) {
      if (anchor === 0 || haystack.startsWith(this.prefix, j - anchor)) return j - anchor;
    }
    return -1;
  }
}
