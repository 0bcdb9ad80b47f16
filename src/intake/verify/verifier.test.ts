import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../domain/errors.ts";
import { presetProfile } from "./presets.ts";
import { presetNames } from "./spec.ts";
import { compileVerifier } from "./verifier.ts";

describe("compileVerifier", () => {
  it("scheme none accepts anything, with an empty nonce", () => {
    const verifier = compileVerifier({ scheme: { kind: "none" }, contentTypes: ["application/json"] }, []);
    assert.deepEqual(verifier.verify({ headers: {}, rawBody: Buffer.alloc(0), url: "http://x/", nowMs: 0 }), {
      signature: "",
    });
  });

  it("refuses every signing preset without a secret, naming the config path", () => {
    for (const name of presetNames) {
      assert.throws(
        () => compileVerifier(presetProfile(name), [], { configPath: `tenants.acme.sources.${name}.verify` }),
        (error) =>
          error instanceof ConfigError &&
          (error.problems[0] ?? "").startsWith(`tenants.acme.sources.${name}.verify`),
        name,
      );
    }
  });

  it("compiles every preset with a well-formed secret", () => {
    for (const name of presetNames) {
      const secret = name === "standard-webhooks" ? "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" : "s3cret";
      assert.equal(typeof compileVerifier(presetProfile(name), [secret]).verify, "function");
    }
  });
});
