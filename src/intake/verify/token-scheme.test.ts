import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../domain/errors.ts";
import { signRequest } from "./sign-request.ts";
import type { SourceProfile } from "./spec.ts";
import { rejects } from "./test-kit.ts";
import { compileVerifier } from "./verifier.ts";

const bearer: SourceProfile = {
  scheme: { kind: "token", header: "Authorization", prefix: "Bearer " },
  contentTypes: ["application/json"],
};
const base = { rawBody: Buffer.from("{}"), url: "https://zen.example.com/webhooks/acme/falco", nowMs: 0 };

describe("token scheme", () => {
  it("accepts the token after the prefix, for any configured secret, with an empty nonce", () => {
    const verifier = compileVerifier(bearer, ["old-token", "new-token"]);
    assert.deepEqual(verifier.verify({ ...base, headers: { authorization: "Bearer new-token" } }), {
      signature: "",
    });
    verifier.verify({ ...base, headers: { authorization: "Bearer old-token" } });
  });

  it("signRequest builds the header", () => {
    assert.deepEqual(signRequest(bearer, "t0k", { body: "{}", nowMs: 0 }), { authorization: "Bearer t0k" });
  });

  it("refuses a wrong token, a token of another length, and a prefix-only header", () => {
    const verifier = compileVerifier(bearer, ["new-token"]);
    for (const value of ["Bearer new-tokeN", "Bearer new-token-and-more", "Bearer n", "Bearer  new-token"]) {
      const error = rejects(
        () => verifier.verify({ ...base, headers: { authorization: value } }),
        "signature_invalid",
      );
      assert.ok(!error.message.includes("new-token"));
    }
  });

  it("refuses a header without the prefix, a repeated header and a missing one", () => {
    const verifier = compileVerifier(bearer, ["new-token"]);
    rejects(
      () => verifier.verify({ ...base, headers: { authorization: "Basic bmV3LXRva2Vu" } }),
      "malformed_header",
    );
    rejects(
      () =>
        verifier.verify({ ...base, headers: { authorization: ["Bearer new-token", "Bearer new-token"] } }),
      "malformed_header",
    );
    rejects(() => verifier.verify({ ...base, headers: {} }), "signature_missing");
  });

  it("refuses to compile without secrets or with an empty one", () => {
    assert.throws(() => compileVerifier(bearer, []), ConfigError);
    assert.throws(() => compileVerifier(bearer, ["ok", ""]), ConfigError);
  });
});
