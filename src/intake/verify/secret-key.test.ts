import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../domain/errors.ts";
import { secretKey, secretKeyBytes } from "./secret-key.ts";

describe("secretKeyBytes", () => {
  it("uses utf8 secrets verbatim, even whsec_ ones (Stripe)", () => {
    assert.deepEqual(secretKeyBytes("whsec_test_secret", "utf8"), Buffer.from("whsec_test_secret"));
  });

  it("base64-decodes, with or without whsec_ for whsec", () => {
    const raw = Buffer.from([1, 2, 3, 4, 5]);
    assert.deepEqual(secretKeyBytes(raw.toString("base64"), "base64"), raw);
    assert.deepEqual(secretKeyBytes(`whsec_${raw.toString("base64")}`, "whsec"), raw);
    assert.deepEqual(secretKeyBytes(raw.toString("base64"), "whsec"), raw);
  });

  it("refuses empty and non-base64 secrets without echoing them", () => {
    for (const [secret, encoding] of [
      ["", "utf8"],
      ["", "base64"],
      ["whsec_", "whsec"],
      ["s3cr3t!", "base64"],
    ] as const) {
      assert.throws(() => secretKeyBytes(secret, encoding), ConfigError);
    }
    assert.throws(
      () => secretKeyBytes("whsec_s3cr3t!", "whsec"),
      (error) => error instanceof ConfigError && !error.message.includes("s3cr3t"),
    );
  });

  it("wraps the key so inspecting it shows no bytes", () => {
    const key = secretKey("very-secret", "utf8");
    assert.ok(!JSON.stringify(key).includes("very-secret"));
    assert.equal(key.symmetricKeySize, 11);
  });
});
