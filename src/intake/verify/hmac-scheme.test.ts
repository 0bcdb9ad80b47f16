import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { ConfigError } from "../../domain/errors.ts";
import { signRequest } from "./sign-request.ts";
import type { HmacScheme, SourceProfile } from "./spec.ts";
import { rejects } from "./test-kit.ts";
import { compileVerifier } from "./verifier.ts";

const nowMs = 1_700_000_000_000;
const url = "https://zen.example.com/webhooks/acme/custom?tenant=acme";
const body = Buffer.from('{"id":"evt_1","note":"caf\u00e9 \u2603"}');

function profile(scheme: Partial<HmacScheme>): SourceProfile {
  return {
    scheme: {
      kind: "hmac",
      algorithm: "sha256",
      keyEncoding: "utf8",
      signatureHeader: "X-Signature",
      encoding: "hex",
      signedContent: "{body}",
      ...scheme,
    },
    contentTypes: ["application/json"],
  };
}

/** An independent oracle: node:crypto over the concatenated content, no code under test involved. */
function hmac(
  algorithm: string,
  key: Buffer | string,
  content: Buffer | string,
  encoding: "hex" | "base64",
): string {
  return createHmac(algorithm, key).update(content).digest(encoding);
}

describe("generic HMAC scheme knobs", () => {
  it("sha1, hex", () => {
    const p = profile({ algorithm: "sha1", signaturePrefix: "sha1=" });
    const headers = { "x-signature": `sha1=${hmac("sha1", "s3cret", body, "hex")}` };
    const verified = compileVerifier(p, ["s3cret"]).verify({ headers, rawBody: body, url, nowMs });
    assert.equal(verified.signature, hmac("sha1", "s3cret", body, "hex"));
    assert.equal(verified.timestampMs, undefined);
  });

  it("sha512, base64", () => {
    const p = profile({ algorithm: "sha512", encoding: "base64" });
    const headers = { "x-signature": hmac("sha512", "s3cret", body, "base64") };
    compileVerifier(p, ["s3cret"]).verify({ headers, rawBody: body, url, nowMs });
    const sha256 = { "x-signature": hmac("sha256", "s3cret", body, "base64") };
    rejects(
      () => compileVerifier(p, ["s3cret"]).verify({ headers: sha256, rawBody: body, url, nowMs }),
      "signature_invalid",
    );
  });

  it("base64 key encoding decodes the secret", () => {
    const key = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    const p = profile({ keyEncoding: "base64" });
    const headers = { "x-signature": hmac("sha256", key, body, "hex") };
    compileVerifier(p, [key.toString("base64")]).verify({ headers, rawBody: body, url, nowMs });
    rejects(
      () =>
        compileVerifier(profile({}), [key.toString("base64")]).verify({ headers, rawBody: body, url, nowMs }),
      "signature_invalid",
    );
  });

  it("whsec key encoding strips whsec_ (optional) and decodes base64", () => {
    const key = Buffer.from("0123456789abcdef0123456789abcdef");
    const p = profile({ keyEncoding: "whsec", encoding: "base64" });
    const headers = { "x-signature": hmac("sha256", key, body, "base64") };
    compileVerifier(p, [`whsec_${key.toString("base64")}`]).verify({ headers, rawBody: body, url, nowMs });
    compileVerifier(p, [key.toString("base64")]).verify({ headers, rawBody: body, url, nowMs });
  });

  it("{url} signs the full public URL, query included", () => {
    const p = profile({ signedContent: "{url}\n{body}" });
    const headers = {
      "x-signature": hmac("sha256", "k", Buffer.concat([Buffer.from(`${url}\n`), body]), "hex"),
    };
    const verifier = compileVerifier(p, ["k"]);
    verifier.verify({ headers, rawBody: body, url, nowMs });
    rejects(
      () => verifier.verify({ headers, rawBody: body, url: `${url}&extra=1`, nowMs }),
      "signature_invalid",
    );
  });

  it("{id} signs the id header; absent → missing_header", () => {
    const p = profile({ signedContent: "{id}.{body}", idHeader: "X-Event-Id" });
    const content = Buffer.concat([Buffer.from("evt-42."), body]);
    const headers = { "x-signature": hmac("sha256", "k", content, "hex"), "x-event-id": "evt-42" };
    const verifier = compileVerifier(p, ["k"]);
    verifier.verify({ headers, rawBody: body, url, nowMs });
    rejects(
      () => verifier.verify({ headers: { ...headers, "x-event-id": "evt-43" }, rawBody: body, url, nowMs }),
      "signature_invalid",
    );
    const { "x-event-id": _id, ...withoutId } = headers;
    rejects(() => verifier.verify({ headers: withoutId, rawBody: body, url, nowMs }), "missing_header");
  });

  it("{timestamp} signs the header text exactly as received, in milliseconds when unit is ms", () => {
    const p = profile({
      signedContent: "{timestamp}:{body}",
      timestamp: { header: "X-Ts", unit: "ms", toleranceSeconds: 5 },
    });
    const ts = String(nowMs - 4_000);
    const headers = {
      "x-signature": hmac("sha256", "k", Buffer.concat([Buffer.from(`${ts}:`), body]), "hex"),
      "x-ts": ts,
    };
    const verified = compileVerifier(p, ["k"]).verify({ headers, rawBody: body, url, nowMs });
    assert.equal(verified.timestampMs, nowMs - 4_000);
    rejects(
      () => compileVerifier(p, ["k"]).verify({ headers, rawBody: body, url, nowMs: nowMs + 1_001 }),
      "timestamp_stale",
    );
  });

  it("a signature header alias is used when the primary header is absent", () => {
    const p = profile({ signatureHeaderAliases: ["X-Legacy-Signature"] });
    const sig = hmac("sha256", "k", body, "hex");
    compileVerifier(p, ["k"]).verify({ headers: { "x-legacy-signature": sig }, rawBody: body, url, nowMs });
    rejects(
      () => compileVerifier(p, ["k"]).verify({ headers: { "x-other": sig }, rawBody: body, url, nowMs }),
      "signature_missing",
    );
  });

  it("hashes the exact bytes: invalid UTF-8 and a BOM are kept as received", () => {
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xff, 0xfe]), body]);
    const headers = { "x-signature": hmac("sha256", "k", raw, "hex") };
    compileVerifier(profile({}), ["k"]).verify({ headers, rawBody: raw, url, nowMs });
  });
});

describe("signature decoding and the replay nonce", () => {
  const sig = hmac("sha256", "k", body, "hex");

  it("accepts upper-case hex and returns the canonical lower-case nonce", () => {
    const verified = compileVerifier(profile({}), ["k"]).verify({
      headers: { "x-signature": sig.toUpperCase() },
      rawBody: body,
      url,
      nowMs,
    });
    assert.equal(verified.signature, sig);
  });

  it("accepts unpadded base64 and returns the padded nonce", () => {
    const b64 = hmac("sha256", "k", body, "base64");
    const verified = compileVerifier(profile({ encoding: "base64" }), ["k"]).verify({
      headers: { "x-signature": b64.replace(/=+$/, "") },
      rawBody: body,
      url,
      nowMs,
    });
    assert.equal(verified.signature, b64);
  });

  it("returns the same nonce whichever rotated secret matched", () => {
    const verifier = compileVerifier(profile({}), ["old", "new"]);
    const byOld = verifier.verify({
      headers: { "x-signature": hmac("sha256", "old", body, "hex") },
      rawBody: body,
      url,
      nowMs,
    });
    const byNew = verifier.verify({
      headers: { "x-signature": hmac("sha256", "new", body, "hex") },
      rawBody: body,
      url,
      nowMs,
    });
    assert.equal(byOld.signature, byNew.signature);
  });

  it("refuses trailing junk, truncation and non-hex characters with signature_invalid", () => {
    const verifier = compileVerifier(profile({}), ["k"]);
    for (const bad of [`${sig}00`, `${sig}, sha256=${sig}`, sig.slice(0, -2), `${sig.slice(0, -1)}g`]) {
      rejects(
        () => verifier.verify({ headers: { "x-signature": bad }, rawBody: body, url, nowMs }),
        "signature_invalid",
      );
    }
  });

  it("refuses a header with no entry carrying the prefix with malformed_header", () => {
    const verifier = compileVerifier(profile({ signaturePrefix: "sha256=" }), ["k"]);
    rejects(
      () => verifier.verify({ headers: { "x-signature": `sha1=${sig}` }, rawBody: body, url, nowMs }),
      "malformed_header",
    );
    const separated = compileVerifier(profile({ signaturePrefix: "v1=", signatureSeparator: "," }), ["k"]);
    rejects(
      () => separated.verify({ headers: { "x-signature": " , ," }, rawBody: body, url, nowMs }),
      "malformed_header",
    );
  });

  it("accepts a one-element header array as the single value", () => {
    compileVerifier(profile({}), ["k"]).verify({
      headers: { "x-signature": [sig] },
      rawBody: body,
      url,
      nowMs,
    });
  });
});

describe("error messages", () => {
  it("never contain the secret, the received or the expected signature", () => {
    const secret = "super-secret-value";
    const p = profile({
      signaturePrefix: "sha256=",
      signedContent: "{timestamp}.{body}",
      timestamp: { header: "x-ts", unit: "s", toleranceSeconds: 300 },
    });
    const verifier = compileVerifier(p, [secret]);
    const ts = String(nowMs / 1000);
    const expected = hmac("sha256", secret, `${ts}.${body.toString()}`, "hex");
    const received = hmac("sha256", "wrong", `${ts}.${body.toString()}`, "hex");
    const failures = [
      rejects(
        () =>
          verifier.verify({
            headers: { "x-signature": `sha256=${received}`, "x-ts": ts },
            rawBody: body,
            url,
            nowMs,
          }),
        "signature_invalid",
      ),
      rejects(
        () =>
          verifier.verify({
            headers: { "x-signature": `sha256=${received}x`, "x-ts": ts },
            rawBody: body,
            url,
            nowMs,
          }),
        "signature_invalid",
      ),
      rejects(
        () =>
          verifier.verify({ headers: { "x-signature": received, "x-ts": ts }, rawBody: body, url, nowMs }),
        "malformed_header",
      ),
      rejects(
        () =>
          verifier.verify({
            headers: { "x-signature": `sha256=${expected}`, "x-ts": ts },
            rawBody: body,
            url,
            nowMs: nowMs + 301_000,
          }),
        "timestamp_stale",
      ),
    ];
    for (const error of failures) {
      assert.ok(!error.message.includes(secret), error.message);
      assert.ok(!error.message.includes(expected), error.message);
      assert.ok(!error.message.includes(received), error.message);
      assert.ok(error.message.length > 20, "messages say what is wrong");
    }
  });
});

describe("compile-time checks", () => {
  function problems(p: SourceProfile, secrets: readonly string[] = ["k"]): readonly string[] {
    try {
      compileVerifier(p, secrets, { configPath: "tenants.acme.sources.custom.verify" });
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    assert.fail("expected a ConfigError");
  }

  it("reports every problem at once, naming the field", () => {
    const found = problems(profile({ signedContent: "{id}.{timestamp}.{body}" }), []);
    assert.deepEqual(found, [
      "tenants.acme.sources.custom.verify.signedContent: uses {timestamp} but no timestamp is configured",
      "tenants.acme.sources.custom.verify.signedContent: uses {id} but idHeader is not set",
      "tenants.acme.sources.custom.verify: at least one secret is required",
    ]);
  });

  it("refuses templates that do not sign the body or use unknown placeholders", () => {
    assert.match(problems(profile({ signedContent: "{timestamp}" }))[0] ?? "", /must include \{body\}/);
    assert.match(
      problems(profile({ signedContent: "{body}.{nonce}" }))[0] ?? "",
      /unknown placeholder \{nonce\}/,
    );
  });

  it("refuses a header timestamp the signature does not cover", () => {
    const found = problems(profile({ timestamp: { header: "x-ts", unit: "s", toleranceSeconds: 300 } }));
    assert.match(found[0] ?? "", /must include \{timestamp\}/);
  });

  it("refuses a body timestamp inside the template, and a bad JSON path", () => {
    const circular = profile({
      signedContent: "{timestamp}.{body}",
      timestamp: { jsonPath: "$.ts", unit: "ms", toleranceSeconds: 60 },
    });
    assert.match(problems(circular)[0] ?? "", /cannot come from the body/);
    const badPath = profile({ timestamp: { jsonPath: "ts", unit: "ms", toleranceSeconds: 60 } });
    assert.match(problems(badPath)[0] ?? "", /timestamp\.jsonPath: jsonPath "ts": must start with \$/);
  });

  it("refuses ambiguous or incomplete timestamp specs", () => {
    const both = profile({
      signedContent: "{timestamp}.{body}",
      timestamp: { header: "x-ts", signatureKey: "t", unit: "s", toleranceSeconds: 300 },
    });
    assert.match(problems(both)[0] ?? "", /exactly one of header, signatureKey, jsonPath/);
    const noSeparator = profile({
      signedContent: "{timestamp}.{body}",
      timestamp: { signatureKey: "t", unit: "s", toleranceSeconds: 300 },
    });
    assert.match(problems(noSeparator)[0] ?? "", /needs signatureSeparator/);
    const zero = profile({
      signedContent: "{timestamp}.{body}",
      timestamp: { header: "x-ts", unit: "s", toleranceSeconds: 0 },
    });
    assert.match(problems(zero)[0] ?? "", /toleranceSeconds: must be a positive/);
  });

  it("refuses empty and undecodable secrets without printing them", () => {
    assert.deepEqual(problems(profile({}), ["ok", ""]), ["secrets[1]: a secret is empty"]);
    const found = problems(profile({ keyEncoding: "whsec" }), ["whsec_not*base64!"]);
    assert.deepEqual(found, ["secrets[0]: a secret is not whsec_<base64> (keyEncoding whsec)"]);
  });

  it("signRequest and compileVerifier agree on a fully loaded scheme", () => {
    const p = profile({
      algorithm: "sha512",
      keyEncoding: "whsec",
      encoding: "base64",
      signaturePrefix: "v9,",
      signatureSeparator: " ",
      signedContent: "{id}|{timestamp}|{url}|{body}",
      timestamp: { header: "x-ts", unit: "ms", toleranceSeconds: 30 },
      idHeader: "x-id",
    });
    const secret = `whsec_${Buffer.from("a 24 byte secret key!!!!").toString("base64")}`;
    const headers = signRequest(p, secret, { body, nowMs, id: "evt-9", url });
    assert.deepEqual(Object.keys(headers).sort(), ["x-id", "x-signature", "x-ts"]);
    const content = `evt-9|${nowMs}|${url}|${body.toString()}`;
    const key = Buffer.from("a 24 byte secret key!!!!");
    assert.equal(headers["x-signature"], `v9,${hmac("sha512", key, content, "base64")}`);
    const verified = compileVerifier(p, [secret]).verify({ headers, rawBody: body, url, nowMs });
    assert.equal(verified.timestampMs, nowMs);
  });
});
