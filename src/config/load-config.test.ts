import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { presetProfile } from "../intake/verify/presets.ts";
import { loadConfig } from "./load-config.ts";
import { fakeFiles, problemsOf } from "./testing.ts";

const path = "/etc/zen/zen.yaml";

function defined<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}
const secret = "test-secret-not-real";

function load(yaml: string, env: Record<string, string> = {}, files: Record<string, string> = {}) {
  return loadConfig({ env: { ZEN_CONFIG: path, ...env }, readFile: fakeFiles({ [path]: yaml, ...files }) });
}

const fullYaml = `
tenants:
  - id: acme
    rateLimit: { capacity: 50, refillPerSecond: 2.5 }
    intakeRateLimit: { capacity: 200, refillPerSecond: 20 }
    sources:
      - id: gh
        preset: github
        secrets: [env:GH_SECRET, file:/run/secrets/gh-old]
      - id: pay
        preset: stripe
        secrets: [file:secrets/stripe]
        toleranceSeconds: 120
      - id: custom
        verify:
          algorithm: sha512
          signatureHeader: X-Signature
          signaturePrefix: "v1="
          signatureSeparator: ","
          encoding: base64
          keyEncoding: base64
          signedContent: "{id}.{timestamp}.{url}.{body}"
          timestampHeader: X-Timestamp
          timestampUnit: ms
          idHeader: X-Event-Id
          idField: $.event.id
          typeHeader: X-Event-Type
        secrets: [env:CUSTOM_SECRET]
        contentTypes: [Application/JSON, application/x-www-form-urlencoded]
      - id: falco
        verify: { token: { header: Authorization, prefix: "Bearer " } }
        secrets: [env:FALCO_TOKEN]
        eventType: { jsonPath: $.rule }
        rateLimit: { capacity: 10, refillPerSecond: 0.5 }
      - id: open
        verify: none
    destinations:
      - id: ops-hook
        type: webhook
        url: https://hooks.example.com/in
        secret: env:OPS_HOOK_SECRET
        headers: { X-Team: platform, Authorization: env:OPS_AUTH }
        timeoutMs: 5000
        rateLimit: { capacity: 1000000000, refillPerSecond: 1000000000 }
      - { id: chat, type: webhook, url: "env:CHAT_URL" }
    routes:
      - { from: [gh], when: { type: push, data.ref: refs/heads/main }, to: [ops-hook, chat] }
      - when: { type: [invoice.*, charge.failed], severity: [high, critical], headers.X-Env: prod, data.count: 3 }
        to: [chat]
  - id: beta
`;

const fullEnv = {
  GH_SECRET: secret,
  CUSTOM_SECRET: "dGVzdC1zZWNyZXQtbm90LXJlYWw=",
  FALCO_TOKEN: secret,
  OPS_HOOK_SECRET: "whsec_dGVzdC1zZWNyZXQtbm90LXJlYWw=",
  OPS_AUTH: "Bearer test-token-not-real",
  CHAT_URL: "https://chat.example.com/hooks/T0/B0/not-real",
};
const fullFiles = {
  "/run/secrets/gh-old": "old-test-secret-not-real\n",
  "/etc/zen/secrets/stripe": "whsec_test-secret-not-real\r\n",
};

describe("loadConfig with a YAML file", () => {
  const config = load(fullYaml, fullEnv, fullFiles);
  const acme = defined(config.tenants.get("acme"));

  it("keeps tenants in file order", () => {
    assert.deepEqual([...config.tenants.keys()], ["acme", "beta"]);
    assert.equal(config.configPath, path);
    const beta = config.tenants.get("beta");
    assert.equal(beta?.sources.size, 0);
    assert.deepEqual(beta?.routes, []);
  });

  it("compiles a preset source with secrets from env and file", () => {
    const gh = acme.sources.get("gh");
    assert.deepEqual(gh, {
      id: "gh",
      tenant: "acme",
      preset: "github",
      profile: presetProfile("github"),
      secrets: [secret, "old-test-secret-not-real"],
    });
  });

  it("resolves relative file: paths against the config file's directory and applies the tolerance", () => {
    const pay = acme.sources.get("pay");
    assert.deepEqual(pay?.secrets, ["whsec_test-secret-not-real"]);
    const expected = presetProfile("stripe", 120);
    assert.deepEqual(pay?.profile, expected);
  });

  it("compiles a custom verify block into an HMAC scheme", () => {
    const custom = acme.sources.get("custom");
    assert.equal(custom?.preset, undefined);
    assert.deepEqual(custom?.profile, {
      scheme: {
        kind: "hmac",
        algorithm: "sha512",
        keyEncoding: "base64",
        signatureHeader: "x-signature",
        signaturePrefix: "v1=",
        signatureSeparator: ",",
        encoding: "base64",
        signedContent: "{id}.{timestamp}.{url}.{body}",
        timestamp: { header: "x-timestamp", unit: "ms", toleranceSeconds: 300 },
        idHeader: "x-event-id",
      },
      eventId: { jsonPath: "$.event.id" },
      eventType: { header: "x-event-type" },
      contentTypes: ["application/json", "application/x-www-form-urlencoded"],
    });
    assert.deepEqual(custom?.secrets, ["dGVzdC1zZWNyZXQtbm90LXJlYWw="]);
  });

  it("compiles token and none schemes", () => {
    assert.deepEqual(acme.sources.get("falco")?.profile, {
      scheme: { kind: "token", header: "authorization", prefix: "Bearer " },
      eventType: { jsonPath: "$.rule" },
      contentTypes: ["application/json"],
    });
    const open = acme.sources.get("open");
    assert.deepEqual(open?.profile, { scheme: { kind: "none" }, contentTypes: ["application/json"] });
    assert.deepEqual(open?.secrets, []);
  });

  it("compiles webhook destinations, with URL and header values from references", () => {
    assert.deepEqual(acme.destinations.get("ops-hook"), {
      type: "webhook",
      id: "ops-hook",
      tenant: "acme",
      url: "https://hooks.example.com/in",
      secret: "whsec_dGVzdC1zZWNyZXQtbm90LXJlYWw=",
      headers: { "x-team": "platform", authorization: "Bearer test-token-not-real" },
      timeoutMs: 5000,
      rateLimit: { capacity: 1_000_000_000, refillPerSecond: 1_000_000_000 },
    });
    assert.deepEqual(acme.destinations.get("chat"), {
      type: "webhook",
      id: "chat",
      tenant: "acme",
      url: "https://chat.example.com/hooks/T0/B0/not-real",
      headers: {},
      timeoutMs: 30_000,
    });
  });

  it("puts each rateLimit where it applies: tenant delivery and intake, source intake, destination", () => {
    assert.deepEqual(acme.rateLimit, { capacity: 50, refillPerSecond: 2.5 });
    assert.deepEqual(acme.intakeRateLimit, { capacity: 200, refillPerSecond: 20 });
    assert.deepEqual(acme.sources.get("falco")?.intakeRateLimit, { capacity: 10, refillPerSecond: 0.5 });
    assert.ok(!("rateLimit" in defined(acme.sources.get("falco"))));
    // The env default is untouched: the tenant's limit replaces it only for that tenant.
    assert.deepEqual(config.guards.rateLimit, { capacity: 100, refillPerSecond: 10 });
  });

  it("leaves limits undefined where none is set", () => {
    const beta = defined(config.tenants.get("beta"));
    assert.equal(beta.rateLimit, undefined);
    assert.equal(beta.intakeRateLimit, undefined);
    assert.ok(!("rateLimit" in beta) && !("intakeRateLimit" in beta));
    assert.ok(!("intakeRateLimit" in defined(acme.sources.get("gh"))));
    assert.ok(!("rateLimit" in defined(acme.destinations.get("chat"))));
  });

  it("splits when.type into types and keeps the rest as predicates", () => {
    assert.deepEqual(acme.routes, [
      {
        index: 0,
        from: ["gh"],
        types: ["push"],
        when: { "data.ref": "refs/heads/main" },
        to: ["ops-hook", "chat"],
      },
      {
        index: 1,
        types: ["invoice.*", "charge.failed"],
        when: { severity: ["high", "critical"], "headers.x-env": "prod", "data.count": "3" },
        to: ["chat"],
      },
    ]);
  });

  it("returns a deep-frozen config", () => {
    const mutable = config as unknown as Record<string, unknown>;
    assert.throws(() => {
      mutable.port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.queue.retry as { attempts: number }).attempts = 99;
    }, TypeError);
    const tenants = config.tenants as unknown as Map<string, unknown>;
    assert.equal(typeof tenants.set, "undefined");
    assert.throws(() => tenants.set("evil", {}), TypeError);
    assert.throws(() => Map.prototype.set.call(tenants, "evil", {}), TypeError);
    assert.throws(() => Map.prototype.clear.call(acme.sources), TypeError);
    const gh = defined(acme.sources.get("gh"));
    assert.throws(() => (gh.secrets as string[]).push("x"), TypeError);
    assert.throws(() => {
      (gh.profile.contentTypes as string[])[0] = "text/plain";
    }, TypeError);
    assert.throws(() => (acme.routes as unknown[]).pop(), TypeError);
    const hook = acme.destinations.get("ops-hook");
    assert.ok(hook?.type === "webhook" && Object.isFrozen(hook.headers));
    for (const limit of [
      acme.rateLimit,
      acme.intakeRateLimit,
      acme.sources.get("falco")?.intakeRateLimit,
      acme.destinations.get("ops-hook")?.rateLimit,
    ]) {
      assert.ok(limit !== undefined && Object.isFrozen(limit));
      assert.throws(() => {
        (limit as { capacity: number }).capacity = 1;
      }, TypeError);
    }
    assert.throws(() => {
      (acme as { rateLimit?: unknown }).rateLimit = undefined;
    }, TypeError);
    assert.ok(Object.isFrozen(config.egress.allowCidrs));
    assert.equal(config.tenants.size, 2);
  });

  it("does not freeze the shared preset table", () => {
    assert.equal(Object.isFrozen(presetProfile("github").contentTypes), false);
  });
});

describe("WEBHOOK_SECRET", () => {
  it("creates tenant default with source generic when there is no file", () => {
    const config = loadConfig({ env: { WEBHOOK_SECRET: secret } });
    assert.equal(config.genericWebhookSecret, secret);
    assert.deepEqual(config.tenants.get("default")?.sources.get("generic"), {
      id: "generic",
      tenant: "default",
      preset: "generic",
      profile: presetProfile("generic"),
      secrets: [secret],
    });
  });

  it("adds the source to a default tenant from the file, keeping its other parts", () => {
    const yaml = `
tenants:
  - id: default
    sources: [{ id: gh, preset: github, secrets: [env:GH_SECRET] }]
    destinations: [{ id: hook, type: webhook, url: "https://hooks.example.com/in" }]
    routes: [{ from: [generic], to: [hook] }]
`;
    const tenant = load(yaml, { WEBHOOK_SECRET: secret, GH_SECRET: secret }).tenants.get("default");
    assert.deepEqual([...(tenant?.sources.keys() ?? [])], ["gh", "generic"]);
    assert.equal(tenant?.destinations.size, 1);
  });

  it("uses ZEN_TOLERANCE_SECONDS for the generic preset", () => {
    const config = loadConfig({ env: { WEBHOOK_SECRET: secret, ZEN_TOLERANCE_SECONDS: "60" } });
    assert.deepEqual(
      config.tenants.get("default")?.sources.get("generic")?.profile,
      presetProfile("generic", 60),
    );
  });

  it("conflicts with a generic source declared in the file", () => {
    const yaml = "tenants:\n  - id: default\n    sources: [{ id: generic, verify: none }]\n";
    assert.deepEqual(
      problemsOf(() => load(yaml, { WEBHOOK_SECRET: secret })),
      [
        'env WEBHOOK_SECRET: tenant "default" in ZEN_CONFIG already declares source "generic"; remove one of them',
      ],
    );
  });
});

describe("problems", () => {
  it("are all reported at once, one line each, env first then the file in order", () => {
    const yaml = `
tenants:
  - id: acme
    sources:
      - { id: gh, preset: github, secrets: [env:GH_SECRET] }
      - { id: Bad, verify: none }
      - { id: lit, preset: stripe, secrets: [whsec_literal-not-real] }
    destinations:
      - { id: hook, type: webhook, url: "not a url" }
    routes:
      - { from: [gh], to: [nowhere] }
`;
    const problems = problemsOf(() => load(yaml, { QUEUE_MAX_RETRIES: "x" }));
    assert.deepEqual(problems, [
      'env QUEUE_MAX_RETRIES: expected a positive integer, got "x"',
      "tenants[0].sources[0].secrets[0]: environment variable GH_SECRET is not set",
      'tenants[0].sources[1].id: expected an id of lowercase letters, digits, "_" and "-" (starting with a letter or digit, at most 63 characters), got "Bad"',
      "tenants[0].sources[2].secrets[0]: literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
      "tenants[0].destinations[0].url: expected an absolute http:// or https:// URL (value not shown)",
      'tenants[0].routes[0].to[0]: unknown destination "nowhere" in tenant "acme"; its destinations: hook',
    ]);
    assert.ok(problems.every((line) => !line.includes("not-real")));
  });

  it("throw a ConfigError whose message lists them", () => {
    assert.throws(
      () => loadConfig({ env: { PORT: "x" } }),
      (err: unknown) =>
        err instanceof Error &&
        (err as { code?: string }).code === "config_invalid" &&
        err.message === 'invalid configuration:\nenv PORT: expected a non-negative integer, got "x"',
    );
  });
});
