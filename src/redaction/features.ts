/**
 * The engine's pre-filter: one pass over a string's characters yields a bit set of the characters
 * that rules need (`@`, `:`, `=`, `_`, a digit, ...). A rule runs only when every character class it
 * cannot match without is present, so most strings (enum values, versions, names) skip most rules
 * without any regular expression running on them.
 */

export const AT = 1 << 0;
export const COLON = 1 << 1;
export const DOT = 1 << 2;
export const DIGIT = 1 << 3;
export const EQUALS = 1 << 4;
export const UNDERSCORE = 1 << 5;
export const DASH = 1 << 6;
export const SLASH = 1 << 7;
export const BACKSLASH = 1 << 8;
export const PERCENT = 1 << 9;
export const UPPER = 1 << 10;
export const BLANK = 1 << 11;
/** At least two `:` (IPv6). */
export const TWO_COLONS = 1 << 12;
/** At least three `.` (IPv4). */
export const THREE_DOTS = 1 << 13;
export const SEMICOLON = 1 << 14;

const table = new Uint16Array(128);
table[64] = AT;
table[58] = COLON;
table[46] = DOT;
for (let c = 48; c <= 57; c++) table[c] = DIGIT;
table[61] = EQUALS;
table[95] = UNDERSCORE;
table[45] = DASH;
table[47] = SLASH;
table[92] = BACKSLASH;
table[37] = PERCENT;
for (let c = 65; c <= 90; c++) table[c] = UPPER;
table[32] = BLANK;
table[9] = BLANK;
table[10] = BLANK;
table[13] = BLANK;
table[59] = SEMICOLON;

/** The feature bits of `text`. Non-ASCII characters set no bit: no rule needs them. */
export function featuresOf(text: string): number {
  let bits = 0;
  let colons = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      const b = table[c] as number;
      if (b === COLON) colons++;
      else if (b === DOT) dots++;
      bits |= b;
    }
  }
  if (colons >= 2) bits |= TWO_COLONS;
  if (dots >= 3) bits |= THREE_DOTS;
  return bits;
}
