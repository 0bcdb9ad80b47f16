import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { redactionKinds } from "./kinds.ts";
import { compileRedactionPolicy } from "./policy.ts";
import { redactText } from "./redact-text.ts";
import { redactValue } from "./redact-value.ts";
import { RedactionError } from "./redaction-error.ts";
import { secretArbitraries } from "./testing.ts";

const policy = compileRedactionPolicy({ namespaces: { mode: "redact", allow: ["kube-system"] } });

function text(input: string): string {
  return redactText(input, policy).text;
}

describe("JSON escapes cannot hide a secret", () => {
  test("escaped slashes split a URL's scheme and path", () => {
    const body = JSON.stringify({ url: "https://user:pass@db.example.com/x" }).replaceAll("/", "\\/");
    assert.equal(body, '{"url":"https:\\/\\/user:pass@db.example.com\\/x"}');
    assert.equal(text(body), '{"url":"[REDACTED_URL]"}');
  });

  test("\\u escapes: an email's @, a whole token, a slash inside a base64 secret", () => {
    assert.equal(text('{"to":"alice\\u0040example.com"}'), '{"to":"[REDACTED_EMAIL]"}');
    const token = "ghp_0123456789abcdefghijABCDEFGHIJ0123";
    const escaped = [...token].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    assert.equal(text(`{"t":"${escaped}"}`), '{"t":"[REDACTED_GITHUB_TOKEN]"}');
    assert.equal(text('{"k":"whsec_abcdefgh\\/ijklmnop\\u002fqrstuvwx="}'), '{"k":"[REDACTED_API_KEY]"}');
  });

  test("a JSON line break is a boundary (AKIA… right after \\n)", () => {
    assert.equal(
      text('{"env":"HOME=/root\\nAKIAIOSFODNN7EXAMPLE\\nLANG=C"}'),
      '{"env":"HOME=/root\\n[REDACTED_API_KEY]\\nLANG=C"}',
    );
  });

  test("escaped quotes inside a value do not end it early", () => {
    assert.equal(text('{"password":"abc\\"def\\\\","n":1}'), '{"password":"[REDACTED_SECRET]","n":1}');
  });

  test("a replacement never swallows an escape's backslash (the body stays valid JSON)", () => {
    const body = JSON.stringify({ note: '-H "Authorization: Bearer abc123def456"', n: 1 });
    const out = text(body);
    assert.deepEqual(JSON.parse(out), { note: '-H "Authorization: Bearer [REDACTED_TOKEN]"', n: 1 });
    const email = JSON.stringify({ lines: "first\nalice@example.com\nlast" });
    assert.deepEqual(JSON.parse(text(email)), { lines: "first\n[REDACTED_EMAIL]\nlast" });
  });

  test("JSON inside a JSON string (escaped twice)", () => {
    const inner = JSON.stringify({ password: "hunter2", kind: "Secret", data: { a: "YWJj" } });
    const out = text(JSON.stringify({ payload: inner }));
    const parsed = JSON.parse(JSON.parse(out).payload);
    assert.deepEqual(parsed, {
      password: "[REDACTED_SECRET]",
      kind: "Secret",
      data: { a: "[REDACTED_SECRET]" },
    });
  });

  test("YAML inside a JSON string, pretty-printed", () => {
    const manifest = "apiVersion: v1\nkind: Secret\ndata:\n  token: c2VjcmV0\n";
    const out = text(JSON.stringify({ manifest, after: "kept" }, null, 2));
    assert.deepEqual(JSON.parse(out), {
      manifest: "apiVersion: v1\nkind: Secret\ndata:\n  token: [REDACTED_SECRET]\n",
      after: "kept",
    });
  });

  test("a PEM key split over JSON strings (Checkov code_block)", () => {
    const body = JSON.stringify({
      code_block: [
        [1, "key: |\n"],
        [2, "  -----BEGIN EC PRIVATE KEY-----\n"],
        [3, "  MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n"],
        [4, "  -----END EC PRIVATE KEY-----\n"],
        [5, "kind: ConfigMap\n"],
      ],
    });
    const lines = (JSON.parse(text(body)) as { code_block: [number, string][] }).code_block.map(([, l]) => l);
    assert.deepEqual(lines, [
      "key: |\n",
      "  [REDACTED_SECRET]",
      "[REDACTED_SECRET]",
      "[REDACTED_SECRET]\n",
      "kind: ConfigMap\n",
    ]);
  });

  test("a finding that starts inside an escape takes the whole escape", () => {
    assert.equal(text("log: first\\nalice@example.com"), "log: first[REDACTED_EMAIL]");
    // A literal backslash in the data (`\\` in JSON) escapes nothing: it stays.
    assert.deepEqual(JSON.parse(text(JSON.stringify({ log: "x\\nalice@example.com" }))), {
      log: "x\\[REDACTED_EMAIL]",
    });
  });

  test("literal backslashes outside JSON are taken as written", () => {
    assert.equal(text("log: password=ab\\ncd end"), "log: password=[REDACTED_SECRET] end");
  });
});

describe("other body formats", () => {
  test("form-encoded: percent-encoded secrets are found", () => {
    assert.equal(
      text("payload=x&email=alice%40example.com&redirect=https%3A%2F%2Fu%3Ap%40h.example%2F"),
      "payload=x&email=[REDACTED_EMAIL]&redirect=[REDACTED_URL]",
    );
  });

  test("YAML body", () => {
    const yaml =
      "summary: shell in prod\nnamespace: prod\nowner: ops@example.com\ntoken: abc123\nnodes:\n  - 10.0.0.1\n";
    assert.equal(
      text(yaml),
      "summary: shell in [REDACTED_NAMESPACE]\nnamespace: [REDACTED_NAMESPACE]\nowner: [REDACTED_EMAIL]\ntoken: [REDACTED_SECRET]\nnodes:\n  - [REDACTED_IP]\n",
    );
  });

  test("Slack Block Kit body with the Falco event of the issue", () => {
    const body = JSON.stringify({
      channel: "C0SECALERT",
      text: "Terminal shell in container payments/checkout",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "*cmdline:* `curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' -e AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE`\nnamespace=payments",
          },
        },
      ],
    });
    const out = redactText(body, policy);
    assert.ok(!out.text.includes("eyJzdWIiOiJ4In0"));
    assert.ok(!out.text.includes("AKIAIOSFODNN7EXAMPLE"));
    assert.ok(!out.text.includes("payments"));
    assert.deepEqual(out.counts, { jwt: 1, aws_key: 1, namespace: 2 });
    assert.doesNotThrow(() => JSON.parse(out.text));
  });
});

describe("namespaces in the final body", () => {
  test("knownNamespaces redacts bare mentions; hashed labels are stable across deliveries", () => {
    const hashed = compileRedactionPolicy({
      namespaces: { mode: "hash", hashKey: Buffer.alloc(16, 3), allow: [] },
    });
    const one = redactText("shell spawned in payments", hashed, { knownNamespaces: ["payments"] }).text;
    const two = redactText('{"namespace":"payments"}', hashed).text;
    const label = /ns-[0-9a-f]{10}/.exec(one)?.[0];
    assert.ok(label !== undefined);
    assert.equal(two, `{"namespace":"${label}"}`);
    assert.equal(redactText(two, hashed).text, two, "a hashed label is not hashed again");
  });
});

describe("fails closed", () => {
  test("a Secret data map it cannot take apart", () => {
    assert.throws(
      () => text('{"kind":"Secret","data":{"a":{"nested":"x"}}}'),
      (err: unknown) => err instanceof RedactionError && err.code === "redaction_failed",
    );
  });

  test("not a string", () => {
    assert.throws(() => redactText(42 as unknown as string, policy), RedactionError);
  });
});

test("redacting twice changes nothing more (both layers, every kind)", () => {
  const arbitrary = fc.constantFrom(...redactionKinds).chain((kind) => secretArbitraries[kind]);
  fc.assert(
    fc.property(arbitrary, (secret) => {
      const body = JSON.stringify({ a: secret.text, b: secret.value, c: secret.yaml });
      const once = redactText(body, policy).text;
      assert.equal(redactText(once, policy).text, once);
      const value = redactValue({ a: secret.text, b: secret.value }, policy).value;
      assert.deepEqual(redactValue(value, policy).value, value);
    }),
    { numRuns: 2_000 },
  );
});

describe("adversarial input stays fast (linear scans, bounded repetition)", () => {
  const size = 200_000;
  const fill = (unit: string): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  const inputs: ReadonlyArray<readonly [string, string]> = [
    ["PEM BEGINs without END, in JSON strings", `[${fill('"-----BEGIN PRIVATE KEY-----",')}""]`],
    ["PEM BEGINs without END, in text", fill("-----BEGIN PRIVATE KEY----- x ")],
    ["eyJ runs", fill("eyJ")],
    ["ADO passwords without ;", fill("Password=a ")],
    ["@ runs", fill("a@")],
    ["colon runs", fill("a:")],
    ["double colons", fill("1::")],
    ["unterminated quoted values", fill('password="')],
    ["namespace pairs", fill("namespace=a ")],
    ["URL schemes", fill("http://")],
    ["JSON escapes", `["${fill("\\u0041\\n")}"]`],
    ["percent escapes", fill("%41+")],
    ["YAML data maps", `kind: Secret\n${fill("data:\n a: b\n")}`],
    ["dotted numbers", fill("1.2.3.")],
    ["Bearer runs", fill("Bearer a")],
    ["long word", "a".repeat(size)],
  ];
  for (const [what, input] of inputs) {
    test(what, () => {
      const started = performance.now();
      redactText(input, policy);
      redactValue({ s: input }, policy);
      const ms = performance.now() - started;
      assert.ok(ms < 1_000, `${what}: ${ms.toFixed(0)} ms for 2 × ${input.length} characters`);
    });
  }
});
