import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { decodeDigest, encodeDigest, matchesAny } from "./digest.ts";

describe("decodeDigest", () => {
  const digest = createHash("sha256").update("x").digest();
  const sha1 = createHash("sha1").update("x").digest();

  it("decodes hex of either case and padded or unpadded base64", () => {
    assert.deepEqual(decodeDigest(digest.toString("hex"), "hex", 32), digest);
    assert.deepEqual(decodeDigest(digest.toString("hex").toUpperCase(), "hex", 32), digest);
    assert.deepEqual(decodeDigest(digest.toString("base64"), "base64", 32), digest);
    assert.deepEqual(decodeDigest(digest.toString("base64").replace(/=+$/, ""), "base64", 32), digest);
    assert.deepEqual(decodeDigest(sha1.toString("base64"), "base64", 20), sha1);
  });

  it("refuses other lengths, alphabets and padding", () => {
    const b64 = digest.toString("base64");
    for (const bad of [
      `${b64}=`,
      `${b64.slice(0, -1)}A`,
      b64.replace("=", "-"),
      ` ${b64.slice(1)}`,
      b64.slice(0, -2),
    ]) {
      assert.equal(decodeDigest(bad, "base64", 32), undefined, bad);
    }
    const hex = digest.toString("hex");
    for (const bad of [`${hex}0`, hex.slice(1), `${hex.slice(2)}zz`, `0x${hex.slice(2)}`]) {
      assert.equal(decodeDigest(bad, "hex", 32), undefined, bad);
    }
  });

  it("encodes canonically and matches in any position", () => {
    assert.equal(encodeDigest(digest, "hex"), digest.toString("hex"));
    assert.ok(matchesAny(digest, [sha1, Buffer.alloc(32), digest]));
    assert.ok(!matchesAny(digest, [sha1, Buffer.alloc(32)]));
    assert.ok(!matchesAny(digest, []));
  });
});
