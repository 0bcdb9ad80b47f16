import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  AT,
  BACKSLASH,
  BLANK,
  COLON,
  DIGIT,
  DOT,
  featuresOf,
  PERCENT,
  probeFeatures,
  probeFeaturesFromLength,
  scanFeatures,
  THREE_DOTS,
  TWO_COLONS,
  UPPER,
} from "./features.ts";

/** Characters that set a bit, some that do not, and non-ASCII look-alikes. */
const alphabet = [..."@:.=_-/\\%;aZ9 \t\n\rxé：＠٣", "\u{1F511}"];
const textArb = fc.array(fc.constantFrom(...alphabet), { maxLength: 400 }).chain((chars) =>
  fc.oneof(
    fc.constant(chars.join("")),
    fc.string({ maxLength: 300 }).map((s) => chars.join("") + s),
  ),
);

test("the per-character scan and the indexOf probes compute the same bits, at any length", () => {
  fc.assert(
    fc.property(textArb, (text) => {
      assert.equal(probeFeatures(text), scanFeatures(text));
      assert.equal(featuresOf(text), scanFeatures(text));
    }),
    { numRuns: 5_000 },
  );
});

test("counted features need two colons and three dots, on both sides of the length switch", () => {
  for (const pad of ["", "x".repeat(probeFeaturesFromLength)]) {
    assert.equal(featuresOf(`${pad}a:b`) & (COLON | TWO_COLONS), COLON);
    assert.equal(featuresOf(`${pad}a:b:c`) & TWO_COLONS, TWO_COLONS);
    assert.equal(featuresOf(`${pad}1.2.3`) & (DOT | THREE_DOTS), DOT);
    assert.equal(featuresOf(`${pad}1.2.3.4`) & THREE_DOTS, THREE_DOTS);
    assert.equal(featuresOf(`${pad}\r`) & BLANK, BLANK);
    assert.equal(featuresOf(`${pad}a@b%c\\d`) & (AT | PERCENT | BACKSLASH), AT | PERCENT | BACKSLASH);
    // Full-width and Arabic-Indic look-alikes set nothing.
    assert.equal(featuresOf(`${pad}：＠٣`) & (COLON | AT | DIGIT | UPPER), 0);
  }
});
