import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { jsonEscapeView, percentView } from "./text-views.ts";

/** A piece of JSON string content: [as written in the source, what the view must show]. */
const pieceArb: fc.Arbitrary<readonly [string, string]> = fc.oneof(
  fc.constantFrom("a", "B", "7", "@", "-", " ", "é").map((c) => [c, c] as const),
  fc.constantFrom(
    ["\\/", "/"],
    ["\\n", "\n"],
    ["\\t", "\t"],
    ["\\r", "\r"],
    ["\\b", "\b"],
    ["\\f", "\f"],
  ) as fc.Arbitrary<readonly [string, string]>,
  fc.constantFrom(
    ['\\"', '\\"'],
    ["\\\\", "\\\\"],
    ["\\u0022", "\\u0022"],
    ["\\u005C", "\\u005C"],
  ) as fc.Arbitrary<readonly [string, string]>,
  fc
    .integer({ min: 0x20, max: 0xffff })
    .filter((c) => c !== 0x22 && c !== 0x5c && (c < 0xd800 || c > 0xdfff))
    .map((c) => [`\\u${c.toString(16).padStart(4, "0")}`, String.fromCharCode(c)] as const),
);

test('JSON view: decodes what can hide a secret, keeps \\" and \\\\, and maps every character to its source', () => {
  fc.assert(
    fc.property(fc.array(pieceArb, { minLength: 1, maxLength: 40 }), (pieces) => {
      const source = pieces.map(([s]) => s).join("");
      const expected = pieces.map(([, v]) => v).join("");
      const view = jsonEscapeView(source);
      if (view === undefined) {
        assert.equal(expected, source, "no view only when nothing needs decoding");
        return;
      }
      assert.equal(view.text, expected);
      let s = 0;
      let v = 0;
      for (const [src, shown] of pieces) {
        for (let k = 0; k < shown.length; k++) {
          const whole = src.length !== shown.length;
          assert.equal(view.sourceStart(v + k), whole ? s : s + k);
          assert.equal(view.sourceEnd(v + k), whole ? s + src.length : s + k + 1);
        }
        s += src.length;
        v += shown.length;
      }
    }),
    { numRuns: 3_000 },
  );
});

test("percent view: %XX and + are decoded and mapped", () => {
  const view = percentView("a%40b+c%2");
  assert.ok(view !== undefined);
  assert.equal(view.text, "a@b c%2");
  assert.deepEqual([view.sourceStart(1), view.sourceEnd(1)], [1, 4]);
  assert.deepEqual([view.sourceStart(2), view.sourceEnd(2)], [4, 5]);
  assert.equal(percentView("no escapes + here"), undefined);
});
