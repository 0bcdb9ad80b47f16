/**
 * Where an unquoted value that runs "to the end of the line" (YAML, HTTP headers) really ends. In a
 * JSON document a YAML snippet can sit inside a string, and the line then ends at that string's
 * closing quote: a replacement that ran past it would swallow JSON structure. So the value also stops
 * at an unescaped `"` followed by JSON structure (`, } ] :`, a blank or the end).
 */
export function plainLineEnd(text: string, from: number): number {
  let e = from;
  while (e < text.length) {
    const c = text.charCodeAt(e);
    if (c === 10 || c === 13) break;
    if (c === 34 && text.charCodeAt(e - 1) !== 92) {
      const next = e + 1 < text.length ? text.charCodeAt(e + 1) : 32;
      if (next === 44 || next === 125 || next === 93 || next === 58 || next <= 32) break;
    }
    e++;
  }
  return e;
}
