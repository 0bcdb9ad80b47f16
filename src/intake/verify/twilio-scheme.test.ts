import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { presetProfile } from "./presets.ts";
import { signRequest } from "./sign-request.ts";
import { rejects } from "./test-kit.ts";
import { formParamsText, twilioUrlVariants, withBodySha256 } from "./twilio-scheme.ts";
import { compileVerifier } from "./verifier.ts";

const token = "12345";
const verifier = compileVerifier(presetProfile("twilio"), [token]);

/** Independent oracle: twilio-node's getExpectedTwilioSignature for already-sorted `key+value` text. */
function expected(url: string, params = ""): string {
  return createHmac("sha1", token)
    .update(url + params)
    .digest("base64");
}

function verify(url: string, signature: string, body = "") {
  return verifier.verify({
    headers: { "x-twilio-signature": signature },
    rawBody: Buffer.from(body),
    url,
    nowMs: 0,
  });
}

describe("twilio signed data", () => {
  it("sorts keys, and de-duplicates and sorts the values of repeated keys", () => {
    const body = Buffer.from("To=%2B1&MediaUrl=b&Body=hi+there&MediaUrl=a&MediaUrl=b&A=");
    assert.equal(formParamsText(body), "ABodyhi thereMediaUrlaMediaUrlbTo+1");
  });

  it("spells the URL without a port and with the default or explicit port", () => {
    assert.deepEqual(twilioUrlVariants(new URL("https://h.example/p?q=1")), [
      "https://h.example/p?q=1",
      "https://h.example:443/p?q=1",
    ]);
    assert.deepEqual(twilioUrlVariants(new URL("http://u:pw@h.example/p")), [
      "http://u:pw@h.example/p",
      "http://u:pw@h.example:80/p",
    ]);
    assert.deepEqual(twilioUrlVariants(new URL("http://h.example:8080/p")), [
      "http://h.example/p",
      "http://h.example:8080/p",
    ]);
  });
});

describe("twilio verification", () => {
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const body = "Digits=1234&To=%2B18005551212&CallSid=CA1234567890ABCDE";
  const params = "CallSidCA1234567890ABCDEDigits1234To+18005551212";

  it("accepts a signature made over the URL with the default port, and returns the port-less nonce", () => {
    const withPort = expected("https://mycompany.com:443/myapp.php?foo=1&bar=2", params);
    assert.equal(verify(url, withPort, body).signature, expected(url, params));
    assert.equal(
      verify("https://mycompany.com:443/myapp.php?foo=1&bar=2", expected(url, params), body).signature,
      expected(url, params),
    );
    const http = "http://mycompany.com/myapp.php";
    verify(http, expected("http://mycompany.com:80/myapp.php", params), body);
  });

  it("refuses a signature over another URL, other params or with another token", () => {
    rejects(() => verify(`${url}&baz=3`, expected(url, params), body), "signature_invalid");
    rejects(() => verify(url, expected(url, params), body.replace("1234", "1235")), "signature_invalid");
    rejects(() => verify(url, expected(url, params), `${body}&Extra=1`), "signature_invalid");
    const other = createHmac("sha1", "54321")
      .update(url + params)
      .digest("base64");
    rejects(() => verify(url, other, body), "signature_invalid");
  });

  it("signs decoded form params: another encoding of the same params verifies alike", () => {
    const plus = "Body=hi+there&To=%2B1";
    const percent = "To=%2b1&Body=hi%20there";
    const signature = expected(url, "Bodyhi thereTo+1");
    assert.equal(verify(url, signature, plus).signature, verify(url, signature, percent).signature);
  });

  it("JSON bodies: signs the URL carrying bodySHA256, then checks the body hash", () => {
    const json = '{"MessageSid":"SM1","MessageStatus":"delivered"}';
    const hashed = withBodySha256(url, json);
    assert.equal(
      new URL(hashed).searchParams.get("bodySHA256"),
      createHash("sha256").update(json).digest("hex"),
    );
    verify(hashed, expected(hashed), json);
    rejects(() => verify(hashed, expected(hashed), json.replace("SM1", "SM2")), "signature_invalid");
    const forgedUrl = withBodySha256(url, "{}");
    rejects(() => verify(forgedUrl, expected(hashed), json), "signature_invalid");
    rejects(() => verify(forgedUrl, expected(forgedUrl), json), "signature_invalid");
  });

  it("signRequest round-trips for form and JSON bodies, including explicit ports", () => {
    for (const target of [url, "http://127.0.0.1:8080/webhooks/acme/sms"]) {
      const headers = signRequest(presetProfile("twilio"), token, {
        body,
        nowMs: 0,
        url: target,
        id: "idem-1",
      });
      assert.equal(headers["i-twilio-idempotency-token"], "idem-1");
      verifier.verify({ headers, rawBody: Buffer.from(body), url: target, nowMs: 0 });
      const json = '{"a":1}';
      const hashed = withBodySha256(target, json);
      const jsonHeaders = signRequest(presetProfile("twilio"), token, { body: json, nowMs: 0, url: hashed });
      verifier.verify({ headers: jsonHeaders, rawBody: Buffer.from(json), url: hashed, nowMs: 0 });
    }
    assert.throws(() => signRequest(presetProfile("twilio"), token, { body, nowMs: 0 }), TypeError);
  });

  it("refuses a non-base64 signature and an unparsable URL", () => {
    rejects(() => verify(url, "not a signature", body), "signature_invalid");
    rejects(() => verify("not a url", expected(url, params), body), "invalid_request");
  });
});
