import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { defaultToleranceSeconds, presetProfile } from "./presets.ts";
import { signRequest } from "./sign-request.ts";
import { type PresetName, presetNames } from "./spec.ts";
import { rejects } from "./test-kit.ts";
import { compileVerifier, type VerifyInput } from "./verifier.ts";

/** 2023-11-14T22:13:20Z: the timestamp of the [COMPUTED] vectors in providers.md §4. */
const vectorNowMs = 1_700_000_000_000;
const eventBody = '{"id":"evt_test","object":"event"}';
const publicUrl = "https://zen.example.com/webhooks/acme/src?x=1";

interface PresetCase {
  readonly preset: PresetName;
  readonly secret: string;
  /** A secret of the right shape that is not `secret`. */
  readonly otherSecret: string;
  /** Body of generated requests; Linear's carries its timestamp. */
  readonly body: (nowMs: number) => string;
  /** The provider's published or [COMPUTED] vector (providers.md §1.1, §4). */
  readonly vector: {
    readonly headers: Record<string, string>;
    readonly body: string;
    readonly url?: string;
    readonly nowMs: number;
    /** The nonce `verify` must return: the vector's signature, canonical, without prefix. */
    readonly signature: string;
  };
  /** Every header name that carries the signature (the primary first). */
  readonly signatureHeaders: readonly string[];
  /** Header carrying the timestamp, or `body` for Linear; absent: the scheme has none. */
  readonly timestamp?: {
    readonly header?: string;
    readonly inBody?: true;
    readonly toleranceSeconds: number;
  };
  /** Builds one header value holding both signatures (`a` from the right secret, `b` from another). */
  readonly combine?: (a: string, b: string) => string;
  /** False for token schemes: the body is not covered by anything. */
  readonly coversBody: boolean;
}

const twilioForm = "Body=hello&From=%2B15551234567&MessageSid=SM123&SmsStatus=received";

const cases: readonly PresetCase[] = [
  {
    preset: "github",
    secret: "It's a Secret to Everybody",
    otherSecret: "not the secret",
    body: () => eventBody,
    vector: {
      headers: {
        "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      },
      body: "Hello, World!",
      nowMs: vectorNowMs,
      signature: "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    },
    signatureHeaders: ["x-hub-signature-256"],
    coversBody: true,
  },
  {
    preset: "gitlab",
    secret: "gitlab-token",
    otherSecret: "other-token",
    body: () => eventBody,
    vector: {
      headers: { "x-gitlab-token": "gitlab-token" },
      body: eventBody,
      nowMs: vectorNowMs,
      signature: "",
    },
    signatureHeaders: ["x-gitlab-token"],
    coversBody: false,
  },
  {
    preset: "stripe",
    secret: "whsec_test_secret",
    otherSecret: "whsec_other_secret",
    body: () => eventBody,
    vector: {
      headers: {
        "stripe-signature":
          "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724",
      },
      body: eventBody,
      nowMs: vectorNowMs,
      signature: "8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724",
    },
    signatureHeaders: ["stripe-signature"],
    timestamp: { toleranceSeconds: defaultToleranceSeconds },
    combine: (a, b) =>
      `${b},${a.split(",")[1]},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39`,
    coversBody: true,
  },
  {
    preset: "standard-webhooks",
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    otherSecret: "whsec_b3RoZXItc2VjcmV0LWtleS1ieXRlcy0xMjM0",
    body: () => eventBody,
    vector: {
      headers: {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      },
      body: '{"test": 2432232314}',
      nowMs: 1_614_265_330_000,
      signature: "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    },
    signatureHeaders: ["webhook-signature"],
    timestamp: { header: "webhook-timestamp", toleranceSeconds: defaultToleranceSeconds },
    combine: (a, b) => `v1a,ZXhhbXBsZSBlZDI1NTE5IHNpZ25hdHVyZQ== ${b} ${a}`,
    coversBody: true,
  },
  {
    preset: "shopify",
    secret: "shpss_secret",
    otherSecret: "shpss_other",
    body: () => eventBody,
    vector: {
      headers: { "x-shopify-hmac-sha256": "goXN7+JmpNCH1u5san06/2+qAxwHmABsfUI/3f5cQb0=" },
      body: eventBody,
      nowMs: vectorNowMs,
      signature: "goXN7+JmpNCH1u5san06/2+qAxwHmABsfUI/3f5cQb0=",
    },
    signatureHeaders: ["shopify-hmac-sha256", "x-shopify-hmac-sha256"],
    coversBody: true,
  },
  {
    preset: "pagerduty",
    secret: "pd_secret",
    otherSecret: "pd_other",
    body: () => eventBody,
    vector: {
      headers: {
        "x-pagerduty-signature": "v1=07fc4969e3259e28ff929bc40d3d821b733aaf32f54670bef33c8227bd78dcde",
      },
      body: eventBody,
      nowMs: vectorNowMs,
      signature: "07fc4969e3259e28ff929bc40d3d821b733aaf32f54670bef33c8227bd78dcde",
    },
    signatureHeaders: ["x-pagerduty-signature"],
    combine: (a, b) => `${b},${a}`,
    coversBody: true,
  },
  {
    preset: "linear",
    secret: "lin_secret",
    otherSecret: "lin_other",
    body: (nowMs) => `{"id":"evt_test","object":"event","webhookTimestamp":${nowMs}}`,
    // [COMPUTED] here: providers.md's Linear vector has no webhookTimestamp (see the dedicated test below).
    vector: {
      headers: { "linear-signature": "2e2c83af5fdb74e8819906e2a155b5b07a93d69ab65a3020f1f289f23cd7124d" },
      body: '{"id":"evt_test","object":"event","webhookTimestamp":1700000000000}',
      nowMs: vectorNowMs,
      signature: "2e2c83af5fdb74e8819906e2a155b5b07a93d69ab65a3020f1f289f23cd7124d",
    },
    signatureHeaders: ["linear-signature"],
    timestamp: { inBody: true, toleranceSeconds: 60 },
    coversBody: true,
  },
  {
    preset: "zoom",
    secret: "zoom_secret",
    otherSecret: "zoom_other",
    body: () => eventBody,
    vector: {
      headers: {
        "x-zm-signature": "v0=2a68ab195a06ea90ae1cfffebac3783ad186d197664e51396abc52afe31c0f23",
        "x-zm-request-timestamp": "1700000000",
      },
      body: eventBody,
      nowMs: vectorNowMs,
      signature: "2a68ab195a06ea90ae1cfffebac3783ad186d197664e51396abc52afe31c0f23",
    },
    signatureHeaders: ["x-zm-signature"],
    timestamp: { header: "x-zm-request-timestamp", toleranceSeconds: defaultToleranceSeconds },
    coversBody: true,
  },
  {
    preset: "twilio",
    secret: "12345",
    otherSecret: "54321",
    body: () => twilioForm,
    vector: {
      headers: { "x-twilio-signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" },
      body: "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212",
      url: "https://mycompany.com/myapp.php?foo=1&bar=2",
      nowMs: vectorNowMs,
      signature: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    },
    signatureHeaders: ["x-twilio-signature"],
    coversBody: true,
  },
  {
    preset: "slack",
    secret: "8f742231b10e8888abcd99yyyzzz85a5",
    otherSecret: "00000000000000000000000000000000",
    body: () => eventBody,
    vector: {
      headers: {
        "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "x-slack-request-timestamp": "1531420618",
      },
      body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
      nowMs: 1_531_420_618_000,
      signature: "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    },
    signatureHeaders: ["x-slack-signature"],
    timestamp: { header: "x-slack-request-timestamp", toleranceSeconds: defaultToleranceSeconds },
    coversBody: true,
  },
  {
    preset: "jira",
    secret: "jira_secret",
    otherSecret: "jira_other",
    body: () => eventBody,
    vector: {
      headers: {
        "x-hub-signature": "sha256=fd55650b17a1fea56ade4c2883bb9656690d13f9a3075025ad76386d01540df1",
      },
      body: eventBody,
      nowMs: vectorNowMs,
      signature: "fd55650b17a1fea56ade4c2883bb9656690d13f9a3075025ad76386d01540df1",
    },
    signatureHeaders: ["x-hub-signature"],
    coversBody: true,
  },
  {
    preset: "generic",
    secret: "generic_secret",
    otherSecret: "generic_other",
    body: () => eventBody,
    // [COMPUTED] here with node:crypto: our own scheme has no published vector.
    vector: {
      headers: {
        "x-signature": "sha256=ab8d17ef1d210bb9e3a09c17f992ddf9c9dda5c13a0afc4fe6e1302510921d48",
        "x-timestamp": "1700000000",
      },
      body: eventBody,
      nowMs: vectorNowMs,
      signature: "ab8d17ef1d210bb9e3a09c17f992ddf9c9dda5c13a0afc4fe6e1302510921d48",
    },
    signatureHeaders: ["x-signature"],
    timestamp: { header: "x-timestamp", toleranceSeconds: defaultToleranceSeconds },
    coversBody: true,
  },
];

function signed(c: PresetCase, secret: string, signNowMs: number, body = c.body(signNowMs)): VerifyInput {
  const headers = signRequest(presetProfile(c.preset), secret, { body, nowMs: signNowMs, url: publicUrl });
  return { headers, rawBody: Buffer.from(body), url: publicUrl, nowMs: vectorNowMs };
}

function verifierFor(c: PresetCase, secrets: readonly string[] = [c.secret]) {
  return compileVerifier(presetProfile(c.preset), secrets);
}

/** A copy of `body` with one character changed in its middle. */
function tamper(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  const index = Math.floor(copy.length / 2);
  copy[index] = (copy[index] ?? 0) === 0x41 ? 0x42 : 0x41;
  return copy;
}

it("covers every preset", () => {
  assert.deepEqual(cases.map((c) => c.preset).sort(), [...presetNames].sort());
});

for (const c of cases) {
  describe(`preset ${c.preset}`, () => {
    it("verifies the provider's test vector", () => {
      const verified = verifierFor(c).verify({
        headers: c.vector.headers,
        rawBody: Buffer.from(c.vector.body),
        url: c.vector.url ?? publicUrl,
        nowMs: c.vector.nowMs,
      });
      assert.equal(verified.signature, c.vector.signature);
    });

    it("verifies what signRequest signs", () => {
      const verified = verifierFor(c).verify(signed(c, c.secret, vectorNowMs));
      if (c.timestamp) assert.equal(verified.timestampMs, vectorNowMs);
    });

    if (c.coversBody) {
      it("refuses a tampered body with signature_invalid", () => {
        const input = signed(c, c.secret, vectorNowMs);
        rejects(
          () => verifierFor(c).verify({ ...input, rawBody: tamper(input.rawBody) }),
          "signature_invalid",
        );
      });
    } else {
      it("does not protect the body (token schemes authenticate the sender only)", () => {
        const input = signed(c, c.secret, vectorNowMs);
        verifierFor(c).verify({ ...input, rawBody: tamper(input.rawBody) });
      });
    }

    it("refuses a request signed with another secret with signature_invalid", () => {
      rejects(() => verifierFor(c).verify(signed(c, c.otherSecret, vectorNowMs)), "signature_invalid");
    });

    it("accepts the second secret of a rotation", () => {
      verifierFor(c, [c.otherSecret, c.secret]).verify(signed(c, c.secret, vectorNowMs));
    });

    it("refuses a repeated signature header with malformed_header", () => {
      const input = signed(c, c.secret, vectorNowMs);
      const [primary = ""] = c.signatureHeaders;
      const value = input.headers[primary] as string;
      rejects(
        () => verifierFor(c).verify({ ...input, headers: { ...input.headers, [primary]: [value, value] } }),
        "malformed_header",
      );
    });

    it("refuses a request without the signature header with signature_missing", () => {
      const input = signed(c, c.secret, vectorNowMs);
      const headers = { ...input.headers };
      for (const name of c.signatureHeaders) delete headers[name];
      rejects(() => verifierFor(c).verify({ ...input, headers }), "signature_missing");
      rejects(
        () => verifierFor(c).verify({ ...input, headers: { ...headers, [c.signatureHeaders[0] ?? ""]: "" } }),
        "signature_missing",
      );
    });

    const combine = c.combine;
    if (combine) {
      it("accepts any one of several signatures in one header", () => {
        const a = signed(c, c.secret, vectorNowMs);
        const b = signed(c, c.otherSecret, vectorNowMs);
        const [name = ""] = c.signatureHeaders;
        const both = combine(a.headers[name] as string, b.headers[name] as string);
        const input = { ...a, headers: { ...a.headers, [name]: both } };
        verifierFor(c).verify(input);
        verifierFor(c, [c.otherSecret]).verify(input);
        rejects(
          () => verifierFor(c, ["whsec_dGhpcmQtc2VjcmV0LWtleS1ieXRlcw=="]).verify(input),
          "signature_invalid",
        );
      });
    }

    const timestamp = c.timestamp;
    if (timestamp) {
      const beyondMs = (timestamp.toleranceSeconds + 1) * 1000;
      it("refuses a timestamp older than the tolerance with timestamp_stale", () => {
        rejects(() => verifierFor(c).verify(signed(c, c.secret, vectorNowMs - beyondMs)), "timestamp_stale");
      });
      it("refuses a timestamp further ahead than the tolerance with timestamp_future", () => {
        rejects(() => verifierFor(c).verify(signed(c, c.secret, vectorNowMs + beyondMs)), "timestamp_future");
      });
      it("accepts timestamps exactly at both edges of the window", () => {
        const edgeMs = timestamp.toleranceSeconds * 1000;
        verifierFor(c).verify(signed(c, c.secret, vectorNowMs - edgeMs));
        verifierFor(c).verify(signed(c, c.secret, vectorNowMs + edgeMs));
      });
      const header = timestamp.header;
      if (header) {
        it("refuses a missing, repeated or non-integer timestamp header", () => {
          const input = signed(c, c.secret, vectorNowMs);
          const value = input.headers[header] as string;
          const { [header]: _dropped, ...without } = input.headers;
          rejects(() => verifierFor(c).verify({ ...input, headers: without }), "timestamp_missing");
          rejects(
            () => verifierFor(c).verify({ ...input, headers: { ...without, [header]: [value, value] } }),
            "malformed_header",
          );
          rejects(
            () => verifierFor(c).verify({ ...input, headers: { ...without, [header]: `${value}.5` } }),
            "malformed_header",
          );
        });
      }
    }
  });
}

describe("preset specifics", () => {
  it("standard-webhooks: a missing or repeated webhook-id is refused", () => {
    const c = cases.find((x) => x.preset === "standard-webhooks") as PresetCase;
    const input = signed(c, c.secret, vectorNowMs);
    const { "webhook-id": id, ...without } = input.headers;
    rejects(() => verifierFor(c).verify({ ...input, headers: without }), "missing_header");
    rejects(
      () =>
        verifierFor(c).verify({ ...input, headers: { ...without, "webhook-id": [id as string, "msg_2"] } }),
      "malformed_header",
    );
    rejects(
      () => verifierFor(c).verify({ ...input, headers: { ...without, "webhook-id": "msg_2" } }),
      "signature_invalid",
    );
  });

  it("stripe: the t= value is signed, and a header without v1= is malformed", () => {
    const c = cases.find((x) => x.preset === "stripe") as PresetCase;
    const input = signed(c, c.secret, vectorNowMs);
    const value = input.headers["stripe-signature"] as string;
    const shifted = value.replace(/^t=(\d+)/, (_, t: string) => `t=${Number(t) + 1}`);
    rejects(
      () => verifierFor(c).verify({ ...input, headers: { "stripe-signature": shifted } }),
      "signature_invalid",
    );
    rejects(
      () => verifierFor(c).verify({ ...input, headers: { "stripe-signature": "t=1700000000" } }),
      "malformed_header",
    );
    rejects(
      () =>
        verifierFor(c).verify({ ...input, headers: { "stripe-signature": value.replace(/^t=\d+,/, "") } }),
      "timestamp_missing",
    );
    rejects(
      () => verifierFor(c).verify({ ...input, headers: { "stripe-signature": `t=1,${value}` } }),
      "malformed_header",
    );
  });

  it("shopify: the un-prefixed header alone, or the classic one alone, verifies", () => {
    const c = cases.find((x) => x.preset === "shopify") as PresetCase;
    const input = signed(c, c.secret, vectorNowMs);
    assert.equal(input.headers["shopify-hmac-sha256"], input.headers["x-shopify-hmac-sha256"]);
    const { "x-shopify-hmac-sha256": classic, ...eventsOnly } = input.headers;
    verifierFor(c).verify({ ...input, headers: eventsOnly });
    verifierFor(c).verify({ ...input, headers: { "x-shopify-hmac-sha256": classic } });
  });

  it("linear: providers.md's vector passes the signature check, then lacks webhookTimestamp", () => {
    const c = cases.find((x) => x.preset === "linear") as PresetCase;
    const headers = {
      "linear-signature": "f1f5ec1aa2b92681fac3b3ea4a2438f82f74a2321697c5b43d942e6fb01cf889",
    };
    const input = { headers, rawBody: Buffer.from(eventBody), url: publicUrl, nowMs: vectorNowMs };
    rejects(() => verifierFor(c).verify(input), "timestamp_missing");
    rejects(
      () => verifierFor(c).verify({ ...input, rawBody: Buffer.from(eventBody.replace("evt", "evu")) }),
      "signature_invalid",
    );
  });

  it("linear: the body timestamp is read only after the signature checks out", () => {
    const c = cases.find((x) => x.preset === "linear") as PresetCase;
    const body = `{"webhookTimestamp":${vectorNowMs - 3_600_000}}`;
    const forged = {
      headers: { "linear-signature": "0".repeat(64) },
      rawBody: Buffer.from(body),
      url: publicUrl,
      nowMs: vectorNowMs,
    };
    rejects(() => verifierFor(c).verify(forged), "signature_invalid");
    const notJson = Buffer.from("not json");
    const sig = createHmac("sha256", c.secret).update(notJson).digest("hex");
    rejects(
      () => verifierFor(c).verify({ ...forged, headers: { "linear-signature": sig }, rawBody: notJson }),
      "malformed_body",
    );
  });

  it("keeps presetProfile's tolerance where the provider documents none, and Linear's own", () => {
    const zoom = presetProfile("zoom", 42).scheme;
    assert.equal(zoom.kind === "hmac" ? zoom.timestamp?.toleranceSeconds : undefined, 42);
    const linear = presetProfile("linear", 42).scheme;
    assert.equal(linear.kind === "hmac" ? linear.timestamp?.toleranceSeconds : undefined, 60);
  });

  it("names the event id and type locations each provider documents", () => {
    assert.deepEqual(presetProfile("twilio").eventId, { header: "i-twilio-idempotency-token" });
    assert.deepEqual(presetProfile("gitlab").eventId, { header: "idempotency-key" });
    assert.deepEqual(presetProfile("shopify").eventId, { header: "x-shopify-webhook-id" });
    assert.deepEqual(presetProfile("github").eventId, { header: "x-github-delivery" });
    assert.deepEqual(presetProfile("jira").eventId, { header: "x-atlassian-webhook-identifier" });
    assert.deepEqual(presetProfile("pagerduty").eventId, { header: "x-webhook-id" });
    assert.deepEqual(presetProfile("standard-webhooks").eventId, { header: "webhook-id" });
    assert.deepEqual(presetProfile("stripe").eventId, { jsonPath: "$.id" });
    assert.deepEqual(presetProfile("slack").eventId, { jsonPath: "$.event_id" });
  });
});
