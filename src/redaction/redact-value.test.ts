import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ZenError } from "../domain/errors.ts";
import { compileRedactionPolicy } from "./policy.ts";
import { redactValue } from "./redact-value.ts";
import { RedactionError } from "./redaction-error.ts";

const policy = compileRedactionPolicy({ namespaces: { mode: "redact", allow: ["kube-system"] } });
const S = "[REDACTED_SECRET]";
const NS = "[REDACTED_NAMESPACE]";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function assertFailsClosed(fn: () => unknown, secret?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RedactionError);
    assert.ok(err instanceof ZenError);
    assert.equal(err.code, "redaction_failed");
    assert.equal(err.reason, "redaction_failed");
    if (secret !== undefined) assert.ok(!err.message.includes(secret), "the message quotes no data");
    return true;
  });
}

describe("Kubernetes Secret objects", () => {
  test("data and stringData values are redacted, keys and everything else kept", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db-creds", labels: { app: "checkout" } },
      type: "Opaque",
      data: { password: "c2VjcmV0", "tls.key": "LS0tLS1CRUdJTg==", empty: null },
      stringData: { "config.yaml": "user: admin\npass: hunter2" },
    };
    const { value, counts } = redactValue(secret, policy);
    assert.deepEqual(value, {
      ...secret,
      data: { password: S, "tls.key": S, empty: null },
      stringData: { "config.yaml": S },
    });
    assert.deepEqual(counts, { kubernetes_secret: 3 });
  });

  test("a data map anywhere inside a Secret, items of a SecretList, and kind-less typed Secrets", () => {
    const list = {
      kind: "SecretList",
      items: [
        { metadata: { name: "a" }, type: "Opaque", data: { k: "djE=" } },
        { metadata: { name: "b" }, nested: { data: { k: "djI=" } } },
      ],
    };
    assert.deepEqual(redactValue(list, policy).value, {
      kind: "SecretList",
      items: [
        { metadata: { name: "a" }, type: "Opaque", data: { k: S } },
        { metadata: { name: "b" }, nested: { data: { k: S } } },
      ],
    });
    const typed = {
      type: "kubernetes.io/dockerconfigjson",
      data: { ".dockerconfigjson": "eyJhdXRocyI6e319" },
    };
    assert.deepEqual(redactValue(typed, policy).value, { ...typed, data: { ".dockerconfigjson": S } });
  });

  test("an audit event's requestObject and a last-applied-configuration annotation", () => {
    const inner = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "x" },
      data: { token: "c2VjcmV0LXRva2Vu" },
    };
    const event = {
      verb: "create",
      requestObject: {
        ...inner,
        metadata: {
          annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(inner) },
        },
      },
    };
    const out = redactValue(event, policy).value as typeof event;
    assert.deepEqual(out.requestObject.data, { token: S });
    const annotation =
      out.requestObject.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"];
    assert.ok(!annotation.includes("c2VjcmV0LXRva2Vu"));
    assert.deepEqual(JSON.parse(annotation).data, { token: S });
  });

  test("ConfigMaps keep their data", () => {
    const cm = { kind: "ConfigMap", data: { mode: "fast", level: "3" } };
    assert.deepEqual(redactValue(cm, policy).value, cm);
  });

  test("with kubernetes_secret disabled, Secret data is only subject to the other rules", () => {
    const only = compileRedactionPolicy({ rules: ["email"], namespaces: { mode: "redact", allow: [] } });
    const secret = { kind: "Secret", data: { a: "YWJj", owner: "ops@example.com" } };
    assert.deepEqual(redactValue(secret, only).value, {
      kind: "Secret",
      data: { a: "YWJj", owner: "[REDACTED_EMAIL]" },
    });
  });
});

describe("secret-named keys and entries", () => {
  test("values under secret names: strings and numbers become the placeholder, at any depth", () => {
    const input = {
      password: "hunter2",
      apiKey: "k-123",
      Authorization: "Bearer abc",
      aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG",
      pin_token: 123456,
      credentials: { user: "admin", pass: "x", nested: ["a", 1, true, null] },
      token: "",
      secret: true,
      clientSecret: null,
      secretName: "db-creds",
      tokens: 5,
    };
    const { value, counts } = redactValue(input, policy);
    assert.deepEqual(value, {
      password: S,
      apiKey: "[REDACTED_API_KEY]",
      Authorization: "[REDACTED_TOKEN]",
      aws_secret_access_key: S,
      pin_token: S,
      credentials: { user: S, pass: S, nested: [S, S, true, null] },
      token: "",
      secret: true,
      clientSecret: null,
      secretName: "db-creds",
      tokens: 5,
    });
    assert.deepEqual(counts, { secret: 6, api_key: 1, token: 1, aws_key: 1 });
  });

  test("env vars and header lists: {name, value} with a secret name", () => {
    const input = {
      env: [
        { name: "DB_PASSWORD", value: "hunter2" },
        { name: "LOG_LEVEL", value: "debug" },
        { name: "API_KEY", valueFrom: { secretKeyRef: { name: "x", key: "y" } } },
      ],
      headers: [{ key: "X-Api-Key", value: "abc" }],
    };
    assert.deepEqual(redactValue(input, policy).value, {
      env: [
        { name: "DB_PASSWORD", value: S },
        { name: "LOG_LEVEL", value: "debug" },
        { name: "API_KEY", valueFrom: { secretKeyRef: { name: "x", key: "y" } } },
      ],
      headers: [{ key: "X-Api-Key", value: "[REDACTED_API_KEY]" }],
    });
  });

  test("placeholders are not redacted again (layer 2 sees layer 1's output)", () => {
    const once = redactValue({ password: "x", note: "mail a@b.io" }, policy);
    const twice = redactValue(once.value, policy);
    assert.deepEqual(twice.value, once.value);
    assert.deepEqual(twice.counts, {});
  });
});

describe("namespaces", () => {
  test("namespace fields, in every usual spelling", () => {
    const input = {
      namespace: "payments",
      ns: "payments",
      "k8s.ns.name": "sandbox",
      "ka.target.namespace": "prod",
      metadata: { name: "app", namespace: "payments" },
      labels: { "trivy-operator.resource.namespace": "payments" },
      targetNamespace: "prod",
      namespaces: ["prod", "kube-system", 3],
      other: "kube-system",
    };
    assert.deepEqual(redactValue(input, policy).value, {
      namespace: NS,
      ns: NS,
      "k8s.ns.name": NS,
      "ka.target.namespace": NS,
      metadata: { name: "app", namespace: NS },
      labels: { "trivy-operator.resource.namespace": NS },
      targetNamespace: NS,
      namespaces: [NS, "kube-system", 3],
      other: "kube-system",
    });
  });

  test("allowlisted, absent (<NA>, null) and empty namespaces pass", () => {
    const input = { namespace: "kube-system", ns: "<NA>", "k8s.ns.name": null, metadata: { namespace: "" } };
    const { value, counts } = redactValue(input, policy);
    assert.deepEqual(value, input);
    assert.deepEqual(counts, {});
  });

  test("a Namespace object's name is a namespace", () => {
    const input = { kind: "Namespace", metadata: { name: "payments", labels: { team: "a" } } };
    assert.deepEqual(redactValue(input, policy).value, {
      kind: "Namespace",
      metadata: { name: NS, labels: { team: "a" } },
    });
  });

  test("mentions of a found namespace are redacted anywhere in the value, before or after it", () => {
    const input = {
      output: "Critical secret accessed in prod ns by prod-bot (see production)",
      output_fields: { "ka.target.namespace": "prod" },
      summary: "prod/checkout",
      keys: { prod: 1 },
    };
    const { value, counts } = redactValue(input, policy);
    assert.deepEqual(value, {
      output: `Critical secret accessed in ${NS} ns by prod-bot (see production)`,
      output_fields: { "ka.target.namespace": NS },
      summary: `${NS}/checkout`,
      keys: { [NS]: 1 },
    });
    assert.equal(counts.namespace, 4);
  });

  test("knownNamespaces: mentions without any namespace field; mentions: false turns it off", () => {
    assert.deepEqual(
      redactValue({ msg: "pod in shop-1 restarted" }, policy, { knownNamespaces: ["shop-1"] }).value,
      {
        msg: `pod in ${NS} restarted`,
      },
    );
    const noMentions = compileRedactionPolicy({ namespaces: { mode: "redact", allow: [], mentions: false } });
    assert.deepEqual(redactValue({ namespace: "shop", msg: "in shop" }, noMentions).value, {
      namespace: NS,
      msg: "in shop",
    });
  });

  test("hash mode: the same namespace is the same label in two deliveries; other keys, other labels", () => {
    const key = Buffer.alloc(32, 9);
    const a = compileRedactionPolicy({ namespaces: { mode: "hash", hashKey: key, allow: [] } });
    const b = compileRedactionPolicy({ namespaces: { mode: "hash", hashKey: Buffer.from(key), allow: [] } });
    const other = compileRedactionPolicy({
      namespaces: { mode: "hash", hashKey: Buffer.alloc(32, 10), allow: [] },
    });
    const first = redactValue({ namespace: "payments" }, a).value as { namespace: string };
    const second = redactValue({ "k8s.ns.name": "payments", msg: "x" }, b).value as Record<string, string>;
    assert.match(first.namespace, /^ns-[0-9a-f]{10}$/);
    assert.equal(second["k8s.ns.name"], first.namespace);
    assert.notEqual(
      (redactValue({ namespace: "payments" }, other).value as { namespace: string }).namespace,
      first.namespace,
    );
    assert.notEqual(
      (redactValue({ namespace: "payment" }, a).value as { namespace: string }).namespace,
      first.namespace,
    );
  });
});

describe("keys", () => {
  test("secrets in keys are redacted; collisions get #2, #3 instead of overwriting", () => {
    const input = {
      "a@example.com": 1,
      "b@example.com": 2,
      "[REDACTED_EMAIL]": 3,
      "c@example.com": 4,
      plain: 5,
    };
    const { value, counts } = redactValue(input, policy);
    assert.deepEqual(value, {
      "[REDACTED_EMAIL]": 1,
      "[REDACTED_EMAIL]#2": 2,
      "[REDACTED_EMAIL]#3": 3,
      "[REDACTED_EMAIL]#4": 4,
      plain: 5,
    });
    assert.equal(Object.keys(value as object).length, 5);
    assert.deepEqual(counts, { email: 3 });
  });

  test("__proto__ stays an own property and pollutes nothing", () => {
    const input = JSON.parse('{"__proto__": {"password": "x", "polluted": true}, "a": 1}');
    const out = redactValue(input, policy).value as Record<string, unknown>;
    assert.ok(Object.hasOwn(out, "__proto__"));
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, "__proto__")?.value, {
      password: S,
      polluted: true,
    });
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe("the input", () => {
  test("is never mutated (deeply frozen input, equal before and after)", () => {
    const input = deepFreeze({
      kind: "Secret",
      data: { a: "YWJj" },
      namespace: "payments",
      list: [{ password: "x" }, "mail ops@example.com"],
      text: "in payments",
    });
    const before = structuredClone(input);
    const { value } = redactValue(input, policy);
    assert.deepEqual(input, before);
    assert.notEqual(value, input);
  });

  test("primitives, Date and undefined", () => {
    assert.equal(redactValue("ops@example.com", policy).value, "[REDACTED_EMAIL]");
    assert.equal(redactValue(42, policy).value, 42);
    assert.equal(redactValue(null, policy).value, null);
    assert.equal(redactValue(undefined, policy).value, undefined);
    assert.equal(redactValue(10n, policy).value, 10n);
    const date = new Date("2026-11-28T19:10:44Z");
    assert.deepEqual(redactValue({ at: date, skip: undefined }, policy).value, {
      at: "2026-11-28T19:10:44.000Z",
      skip: undefined,
    });
  });
});

describe("PEM blocks split over several strings (Checkov code_block)", () => {
  test("every line from BEGIN to END is redacted; the lines after it are not", () => {
    const codeBlock = [
      [1, "apiVersion: v1\n"],
      [2, "-----BEGIN RSA PRIVATE KEY-----\n"],
      [3, "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n"],
      [4, "Proc-Type: 4,ENCRYPTED\n"],
      [5, "9yXw1+3C/ghHQkpVo0qhkA==\n"],
      [6, "-----END RSA PRIVATE KEY-----\n"],
      [7, "kind: Secret-less\n"],
    ];
    const out = redactValue({ code_block: codeBlock }, policy).value as { code_block: [number, string][] };
    assert.deepEqual(
      out.code_block.map(([, line]) => line),
      ["apiVersion: v1\n", S, S, S, S, `${S}\n`, "kind: Secret-less\n"],
    );
  });

  test("an unterminated block stops at the first string that is not key material", () => {
    const out = redactValue(
      ["-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQ", "status: ok"],
      policy,
    ).value;
    assert.deepEqual(out, [S, S, "status: ok"]);
  });
});

describe("fails closed", () => {
  test("a cyclic value", () => {
    const a: Record<string, unknown> = { password: "hunter2" };
    a.self = a;
    assertFailsClosed(() => redactValue(a, policy), "hunter2");
  });

  test("too deep (the depth cap) and too many nodes", () => {
    let deep: unknown = "x";
    for (let i = 0; i < 80; i++) deep = { d: deep };
    assertFailsClosed(() => redactValue(deep, policy));
    assert.doesNotThrow(() => redactValue(deep, policy, { limits: { maxDepth: 100 } }));
    const wide = Array.from({ length: 50 }, () => ({}));
    assertFailsClosed(() => redactValue(wide, policy, { limits: { maxNodes: 10 } }));
  });

  test("a shared subtree is fine (not a cycle)", () => {
    const shared = { email: "a@b.io" };
    assert.deepEqual(redactValue({ x: shared, y: shared }, policy).value, {
      x: { email: "[REDACTED_EMAIL]" },
      y: { email: "[REDACTED_EMAIL]" },
    });
  });

  test("a getter that throws", () => {
    const hostile = {
      ok: "fine",
      get boom(): string {
        throw new Error("token=hunter2 leaked in an error message");
      },
    };
    assertFailsClosed(() => redactValue({ nested: [hostile] }, policy), "hunter2");
  });

  test("values that are not JSON-like", () => {
    assertFailsClosed(() => redactValue({ f: () => 1 }, policy));
    assertFailsClosed(() => redactValue({ s: Symbol("x") }, policy));
    assertFailsClosed(() => redactValue({ m: new Map([["password", "x"]]) }, policy));
    class Credentials {
      password = "hunter2";
    }
    assertFailsClosed(() => redactValue([new Credentials()], policy), "hunter2");
  });

  test("a Proxy whose traps throw", () => {
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new TypeError("no");
        },
      },
    );
    assertFailsClosed(() => redactValue({ p: proxy }, policy));
  });
});
