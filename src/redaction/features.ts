/**
 * The engine's pre-filter: one pass over a string's characters yields a bit set of the characters
 * that rules need (`@`, `:`, `=`, `_`, a digit, ...). A rule runs only when every character class it
 * cannot match without is present, so most strings (enum values, versions, names) skip most rules
 * without any regular expression running on them.
 *
 * Soundness: a bit may only be missing when its characters are absent, never the other way round
 * (`scanFeatures` and `probeFeatures` compute the same bits; a property test holds them equal), and a
 * rule's `needs`/`needsAny` only name characters every one of its findings contains.
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

/** Bits of every UTF-16 code unit (non-ASCII: none), so the per-character loop has no range check. */
const table = new Uint16Array(65536);
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

/**
 * Length from which `featuresOf` probes each feature with `indexOf` (a native, vectorised search per
 * character) instead of looking at every character: measured on this machine, the per-character
 * loop wins below ~128 characters (JSON keys, enum values), the probes win far above (a 10 KB request
 * body: ~0.4 µs instead of ~24 µs). Both compute exactly the same bits.
 */
export const probeFeaturesFromLength = 128;

/** The feature bits of `text`. Non-ASCII characters set no bit: no rule needs them. */
export function featuresOf(text: string): number {
  return text.length >= probeFeaturesFromLength ? probeFeatures(text) : scanFeatures(text);
}

/** `featuresOf` one character at a time. Exported for the test that holds both ways equal. */
export function scanFeatures(text: string): number {
  let bits = 0;
  let colons = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bits |= table[c] as number;
    if (c === 58) colons++;
    else if (c === 46) dots++;
  }
  if (colons >= 2) bits |= TWO_COLONS;
  if (dots >= 3) bits |= THREE_DOTS;
  return bits;
}

const anyDigit = /[0-9]/;
const anyUpper = /[A-Z]/;

function has(text: string, char: string, bit: number): number {
  return text.indexOf(char) === -1 ? 0 : bit;
}

/** `featuresOf` by one search per feature; every search stops at its first hit. */
export function probeFeatures(text: string): number {
  let bits =
    has(text, "@", AT) |
    has(text, "=", EQUALS) |
    has(text, "_", UNDERSCORE) |
    has(text, "-", DASH) |
    has(text, "/", SLASH) |
    has(text, "\\", BACKSLASH) |
    has(text, "%", PERCENT) |
    has(text, ";", SEMICOLON);
  const colon = text.indexOf(":");
  if (colon !== -1) bits |= text.indexOf(":", colon + 1) === -1 ? COLON : COLON | TWO_COLONS;
  const dot = text.indexOf(".");
  if (dot !== -1) {
    bits |= DOT;
    const second = text.indexOf(".", dot + 1);
    if (second !== -1 && text.indexOf(".", second + 1) !== -1) bits |= THREE_DOTS;
  }
  if (
    text.indexOf(" ") !== -1 ||
    text.indexOf("\n") !== -1 ||
    text.indexOf("\t") !== -1 ||
    text.indexOf("\r") !== -1
  ) {
    bits |= BLANK;
  }
  if (anyDigit.test(text)) bits |= DIGIT;
  if (anyUpper.test(text)) bits |= UPPER;
  return bits;
}
