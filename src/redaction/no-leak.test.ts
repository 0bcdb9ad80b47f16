/**
 * The leak property: for every kind, secrets generated at random (realistic alphabets,
 * lengths, prefixes, contexts) and hidden at random places in free text, in JSON (as a value, as a
 * key, as a structured field; nested in objects and arrays), in YAML and in URLs never survive either
 * layer — not whole, and not as any 8-character piece (see `testing.ts`). The JSON bodies go through
 * the text layer as written by `JSON.stringify` and, in turns, pretty-printed, with `\/` and with
 * `\u002f` escapes; they must still parse after redaction.
 *
 * REDACTION_PROPERTY_RUNS sets the runs per kind (default 10 000, the CI minimum).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type RedactionKind, redactionKinds } from "./kinds.ts";
import { type CompiledRedactionPolicy, compileRedactionPolicy } from "./policy.ts";
import {
  buildTree,
  carrierArb,
  checkSample,
  flattenStrings,
  leakedPiece,
  rightSeparatorArb,
  secretArbitraries,
  separatorArb,
  testExtraPatterns,
} from "./testing.ts";

const runsPerKind = Number(process.env.REDACTION_PROPERTY_RUNS ?? 10_000);

const policies: readonly CompiledRedactionPolicy[] = [
  compileRedactionPolicy({
    namespaces: { mode: "hash", hashKey: Buffer.alloc(32, 0x42), allow: ["kube-system"] },
    extraPatterns: testExtraPatterns,
  }),
  compileRedactionPolicy({
    namespaces: { mode: "redact", allow: ["kube-system", "kube-*"] },
    extraPatterns: testExtraPatterns,
  }),
];

describe("the leak check itself", () => {
  test("flags every kind's secret in the unredacted documents", () => {
    for (const kind of redactionKinds) {
      fc.assert(
        fc.property(secretArbitraries[kind], carrierArb, fc.nat(), (secret, words, seed) => {
          const background = [...words, ...flattenStrings(buildTree(words, seed, undefined))].join(" ");
          const raw = flattenStrings(buildTree(words, seed, secret)).join("\u0000");
          assert.notEqual(leakedPiece(`${raw} ${secret.text}`, secret.cores, background), undefined);
        }),
        { numRuns: 200 },
      );
    }
  });
});

describe("no secret of any kind survives either layer", () => {
  for (const kind of redactionKinds) {
    test(`${kind}: ${runsPerKind} random cases`, () => {
      fc.assert(
        fc.property(
          secretArbitraries[kind as RedactionKind],
          carrierArb,
          fc.nat(),
          separatorArb,
          rightSeparatorArb,
          fc.nat(),
          fc.nat(1),
          (secret, words, cut, left, right, seed, policyIndex) => {
            checkSample(
              secret,
              words,
              cut,
              left,
              right,
              seed,
              policies[policyIndex] as CompiledRedactionPolicy,
            );
          },
        ),
        { numRuns: runsPerKind },
      );
    });
  }
});
