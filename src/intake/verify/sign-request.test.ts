import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { presetProfile } from "./presets.ts";
import { signRequest } from "./sign-request.ts";
import { type PresetName, presetNames } from "./spec.ts";
import { mutateByte, rejects } from "./test-kit.ts";
import { withBodySha256 } from "./twilio-scheme.ts";
import { compileVerifier } from "./verifier.ts";

const baseUrl = "https://zen.example.com/webhooks/acme/src";
const nowArb = fc.integer({ min: 1_000_000_000_000, max: 4_000_000_000_000 });
const bytesArb = fc.uint8Array({ minLength: 1, maxLength: 1024 });
const whsecArb = fc
  .uint8Array({ minLength: 24, maxLength: 64 })
  .map((b) => `whsec_${Buffer.from(b).toString("base64")}`);

function secretArb(preset: PresetName): fc.Arbitrary<string> {
  return preset === "standard-webhooks"
    ? whsecArb
    : fc.string({ unit: "binary", minLength: 1, maxLength: 64 });
}

/** A request body for `preset` built from random bytes, and the URL it is sent to. */
function request(preset: PresetName, bytes: Uint8Array, nowMs: number): { body: Buffer; url: string } {
  if (preset === "linear") {
    // Linear's timestamp lives in the signed body; the payload is arbitrary.
    const data = Buffer.from(bytes).toString("base64");
    return { body: Buffer.from(`{"webhookTimestamp":${nowMs},"data":"${data}"}`), url: baseUrl };
  }
  const body = Buffer.from(bytes);
  // Twilio signs raw bytes only through bodySHA256 (form bodies are signed as decoded params).
  return { body, url: preset === "twilio" ? withBodySha256(baseUrl, body) : baseUrl };
}

describe("signRequest → compileVerifier round trip (property)", () => {
  for (const preset of presetNames) {
    const profile = presetProfile(preset);
    const coversBody = profile.scheme.kind !== "token";

    it(`${preset}: verifies, and ${coversBody ? "any single-byte body change fails" : "(token: body not covered)"}`, () => {
      fc.assert(
        fc.property(
          secretArb(preset),
          bytesArb,
          nowArb,
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (secret, bytes, nowMs, at, mask) => {
            const { body, url } = request(preset, bytes, nowMs);
            const headers = signRequest(profile, secret, { body, nowMs, url });
            const verifier = compileVerifier(profile, [secret]);
            const input = { headers, rawBody: body, url, nowMs };
            verifier.verify(input);
            if (coversBody) {
              const mutated = mutateByte(body, at % body.length, mask);
              rejects(() => verifier.verify({ ...input, rawBody: mutated }), "signature_invalid");
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it("twilio form bodies: a changed parameter value fails", () => {
    const profile = presetProfile("twilio");
    const paramsArb = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.string({ unit: "grapheme", maxLength: 24 }),
      { minKeys: 1, maxKeys: 8 },
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 32 }), paramsArb, fc.nat(), (token, params, pick) => {
        const form = new URLSearchParams(params);
        const body = Buffer.from(form.toString());
        const headers = signRequest(profile, token, { body, nowMs: 0, url: baseUrl });
        const verifier = compileVerifier(profile, [token]);
        verifier.verify({ headers, rawBody: body, url: baseUrl, nowMs: 0 });
        const keys = [...form.keys()];
        const key = keys[pick % keys.length] ?? "";
        form.set(key, `${form.get(key)}!`);
        rejects(
          () => verifier.verify({ headers, rawBody: Buffer.from(form.toString()), url: baseUrl, nowMs: 0 }),
          "signature_invalid",
        );
      }),
      { numRuns: 150 },
    );
  });

  it("derives a distinct id per body and time unless one is given", () => {
    const profile = presetProfile("standard-webhooks");
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const a = signRequest(profile, secret, { body: "a", nowMs: 1 });
    const b = signRequest(profile, secret, { body: "b", nowMs: 1 });
    const c = signRequest(profile, secret, { body: "a", nowMs: 2 });
    assert.match(a["webhook-id"] ?? "", /^msg_[0-9a-f]{24}$/);
    assert.equal(new Set([a["webhook-id"], b["webhook-id"], c["webhook-id"]]).size, 3);
    assert.equal(signRequest(profile, secret, { body: "a", nowMs: 1, id: "msg_x" })["webhook-id"], "msg_x");
  });

  it("sets each preset's documented headers, lower-cased", () => {
    const body = "{}";
    const nowMs = 1_700_000_000_000;
    assert.deepEqual(Object.keys(signRequest(presetProfile("slack"), "s", { body, nowMs })).sort(), [
      "x-slack-request-timestamp",
      "x-slack-signature",
    ]);
    assert.deepEqual(Object.keys(signRequest(presetProfile("github"), "s", { body, nowMs })).sort(), [
      "x-github-delivery",
      "x-hub-signature-256",
    ]);
    const stripe = signRequest(presetProfile("stripe"), "whsec_x", { body, nowMs });
    assert.match(stripe["stripe-signature"] ?? "", /^t=1700000000,v1=[0-9a-f]{64}$/);
    const shopify = signRequest(presetProfile("shopify"), "s", { body, nowMs, id: "w1" });
    assert.deepEqual(Object.keys(shopify).sort(), [
      "shopify-hmac-sha256",
      "x-shopify-hmac-sha256",
      "x-shopify-webhook-id",
    ]);
    assert.deepEqual(signRequest({ scheme: { kind: "none" }, contentTypes: [] }, "", { body, nowMs }), {});
  });
});

describe("standard-webhooks: cross-check with the standardwebhooks library", () => {
  const profile = presetProfile("standard-webhooks");

  it("signs the spec's test vector identically", () => {
    const wh = new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const body = '{"test": 2432232314}';
    const ours = signRequest(profile, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {
      body,
      nowMs: 1_614_265_330_000,
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    });
    const theirs = wh.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", new Date(1_614_265_330_000), body);
    assert.equal(ours["webhook-signature"], theirs);
    assert.equal(theirs, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("the library verifies what we sign, and we verify what it signs (property)", () => {
    fc.assert(
      fc.property(
        whsecArb,
        fc.string({ unit: "binary", maxLength: 512 }),
        fc.stringMatching(/^msg_[A-Za-z0-9]{1,24}$/),
        (secret, body, id) => {
          // The library reads the clock itself, so both sides use the real time here.
          const nowMs = Date.now();
          const wh = new Webhook(secret);
          const ours = signRequest(profile, secret, { body, nowMs, id });
          wh.verify(body, ours, { jsonParse: false });

          const theirs = {
            "webhook-id": id,
            "webhook-timestamp": String(Math.floor(nowMs / 1000)),
            "webhook-signature": wh.sign(id, new Date(nowMs), body),
          };
          assert.equal(theirs["webhook-signature"], ours["webhook-signature"]);
          const verified = compileVerifier(profile, [secret]).verify({
            headers: theirs,
            rawBody: Buffer.from(body),
            url: baseUrl,
            nowMs,
          });
          assert.equal(`v1,${verified.signature}`, theirs["webhook-signature"]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("agrees with the library on refusals: wrong secret, tampered body, stale and future timestamps", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const nowMs = Date.now();
    const body = '{"type":"invoice.paid"}';
    const wh = new Webhook(secret);
    const verifier = compileVerifier(profile, [secret]);
    const cases = [
      {
        what: "wrong secret",
        headers: signRequest(profile, "whsec_b3RoZXItc2VjcmV0LWtleS1ieXRlcy0xMjM0", { body, nowMs }),
        body,
        code: "signature_invalid",
      },
      {
        what: "tampered",
        headers: signRequest(profile, secret, { body, nowMs }),
        body: body.replace("paid", "void"),
        code: "signature_invalid",
      },
      {
        what: "stale",
        headers: signRequest(profile, secret, { body, nowMs: nowMs - 400_000 }),
        body,
        code: "timestamp_stale",
      },
      {
        what: "future",
        headers: signRequest(profile, secret, { body, nowMs: nowMs + 400_000 }),
        body,
        code: "timestamp_future",
      },
    ] as const;
    for (const c of cases) {
      assert.throws(() => wh.verify(c.body, c.headers), c.what);
      rejects(
        () => verifier.verify({ headers: c.headers, rawBody: Buffer.from(c.body), url: baseUrl, nowMs }),
        c.code,
      );
    }
  });
});
