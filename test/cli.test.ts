/**
 * The `zen` CLI as users run it: `node --import tsx src/cli.ts …` in a child process with its own
 * environment, checked by exit code and output. Stateful commands (`dlq`, `trace`) work on a data dir
 * that a real service filled with real failed deliveries; `sign` output is executed by bash/curl
 * against a running service.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { makeDataDir, startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, waitFor } from "./support/signed.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const cliPath = join(repoRoot, "src", "cli.ts");

const ghSecret = "gh-cli-secret-not-real-1234";
const hookSecret = "whsec_Y2xpLWhvb2stc2VjcmV0LW5vdC1yZWFs"; // fake
const webhookSecret = "generic-cli-secret-not-real";
const adminToken = "cli-admin-token-not-real";
const hookApiKey = "hook-api-key-not-real";

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI with exactly `env` (plus PATH/HOME/TMPDIR so node and tsx work): the test's own
 * environment must not leak in.
 */
function zen(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  stdin?: string,
): Promise<CliResult> {
  const base: Record<string, string> = { LOG_LEVEL: "silent" };
  for (const name of ["PATH", "HOME", "TMPDIR"]) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", cliPath, ...args],
      { cwd: repoRoot, env: { ...base, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

/** Runs a command line with bash (the way users paste `zen sign` output) and returns its stdout. */
function bash(command: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", command], { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function yamlFor(sinkUrl: string): string {
  return [
    "tenants:",
    "  - id: acme",
    "    sources:",
    "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
    "      - { id: pay, preset: stripe, secrets: [env:GH_SECRET] }",
    "    destinations:",
    `      - { id: hook, type: webhook, url: "${sinkUrl}", secret: env:HOOK_SECRET, headers: { x-api-key: "env:HOOK_API_KEY" } }`,
    `      - { id: other, type: webhook, url: "${sinkUrl}" }`,
    "    routes:",
    "      - { from: [gh], when: { type: push }, to: [hook] }",
    "      - { from: [gh], when: { type: other }, to: [other] }",
    "  - id: default",
    "    destinations:",
    `      - { id: local, type: webhook, url: "${sinkUrl}" }`,
    "    routes:",
    "      - { from: [generic], to: [local] }",
  ].join("\n");
}

describe("zen config check", () => {
  let dir: string;
  before(() => {
    dir = makeDataDir();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 0 with a summary, and prints no secret, header value or URL path", async () => {
    const path = join(dir, "valid.yaml");
    writeFileSync(path, yamlFor("https://hooks.example.com/in/T0KEN-IN-PATH-not-real"));
    const result = await zen(["config", "check"], {
      ZEN_CONFIG: path,
      ZEN_DATA_DIR: dir,
      GH_SECRET: ghSecret,
      HOOK_SECRET: hookSecret,
      HOOK_API_KEY: hookApiKey,
      WEBHOOK_SECRET: webhookSecret,
      ZEN_ADMIN_TOKEN: adminToken,
      QUEUE_MAX_RETRIES: "4",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const out = lines(result.stdout);
    assert.equal(out.at(-1), "configuration is valid");
    assert.ok(out.includes("admin API: on"));
    assert.ok(out.includes("generic webhook /webhooks/generic: on"));
    assert.ok(out.some((l) => l.startsWith("queue: 4 attempts")));
    assert.ok(out.includes("tenant acme: 2 sources, 2 destinations, 2 routes"));
    assert.ok(out.some((l) => /^ {2}source gh: preset github: hmac-sha256 in x-hub-signature-256/.test(l)));
    assert.ok(out.some((l) => l.includes("destination hook: webhook to https://hooks.example.com, signed")));
    for (const secret of [
      ghSecret,
      hookSecret,
      hookSecret.slice("whsec_".length),
      webhookSecret,
      adminToken,
      "T0KEN-IN-PATH",
      hookApiKey,
    ]) {
      assert.ok(!result.stdout.includes(secret), `config check printed ${secret}`);
    }
  });

  it("exits 2 with one line per problem naming the field, and echoes no secret", async () => {
    const path = join(dir, "invalid.yaml");
    writeFileSync(
      path,
      [
        "tenants:",
        "  - id: acme",
        "    sources:",
        "      - { id: gh, preset: github, secrets: [env:GH_SECRET] }",
        "      - { id: pasted, preset: github, secrets: [pasted-literal-secret-not-real] }",
        "    destinations:",
        '      - { id: hook, type: webhook, url: "http://127.0.0.1:9/x" }',
        "    routes:",
        "      - { from: [gh], to: [hook, nope] }",
      ].join("\n"),
    );
    const result = await zen(["config", "check"], {
      ZEN_CONFIG: path,
      ZEN_DATA_DIR: dir,
      QUEUE_MAX_RETRIES: "0",
      ZEN_ADMIN_TOKEN: adminToken,
    });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.deepEqual(lines(result.stderr), [
      'env QUEUE_MAX_RETRIES: expected a positive integer from 1 to 100, got "0"',
      "tenants[0].sources[0].secrets[0]: environment variable GH_SECRET is not set",
      "tenants[0].sources[1].secrets[0]: literal secrets are not allowed in the config file (value not shown); write env:NAME or file:/path and keep the secret there",
      'tenants[0].routes[0].to[1]: unknown destination "nope" in tenant "acme"; its destinations: hook',
    ]);
    assert.ok(!result.stderr.includes("pasted-literal-secret"));
    assert.ok(!result.stderr.includes(adminToken));
  });

  it("exits 2 on a YAML syntax error with file:line:col, and on a missing file", async () => {
    const path = join(dir, "broken.yaml");
    writeFileSync(path, "tenants:\n  - id: acme\n    sources: [\n");
    const [syntax, missing] = await Promise.all([
      zen(["config", "check"], { ZEN_CONFIG: path, ZEN_DATA_DIR: dir }),
      zen(["config", "check"], { ZEN_CONFIG: join(dir, "absent.yaml"), ZEN_DATA_DIR: dir }),
    ]);
    assert.equal(syntax.code, 2);
    const syntaxLines = lines(syntax.stderr);
    assert.equal(syntaxLines.length, 1, syntax.stderr);
    assert.match(
      syntaxLines[0] ?? "",
      new RegExp(`^${path.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:\\d+:\\d+: YAML syntax error`),
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^env ZEN_CONFIG: cannot read config file .*absent\.yaml: no such file\n$/);
  });
});

describe("zen redact", () => {
  const awsKey = "AKIA6WQ2ZT4NXK7RB3MV"; // fake
  const event = JSON.stringify({
    output: `curl -H 'Authorization: Bearer cli-bearer-token-not-real-0123456789' k8s_ns_name=payments`,
    output_fields: { "proc.cmdline": `aws --key ${awsKey}`, "k8s.ns.name": "payments" },
  });

  it("redacts stdin with the tenant's policy: the document on stdout, kinds and places on stderr, exit 0", async () => {
    const dir = makeDataDir();
    try {
      const path = join(dir, "zen.yaml");
      writeFileSync(
        path,
        [
          "tenants:",
          "  - id: acme",
          "    redaction:",
          "      namespaces: { mode: hash, hashKey: env:NS_KEY, allow: [payments] }",
        ].join("\n"),
      );
      const env = { ZEN_CONFIG: path, ZEN_DATA_DIR: dir, NS_KEY: "cli-namespace-hash-key-not-real" };
      const [acme, fallback, unknown] = await Promise.all([
        zen(["redact", "--tenant", "acme"], env, event),
        zen(["redact"], {}, event),
        zen(["redact", "--tenant", "nope"], env, event),
      ]);
      assert.equal(acme.code, 0, acme.stderr);
      const out = JSON.parse(acme.stdout) as { output: string; output_fields: Record<string, string> };
      assert.equal(out.output_fields["k8s.ns.name"], "payments", "allowlisted");
      assert.equal(out.output_fields["proc.cmdline"], "aws --key [REDACTED_API_KEY]");
      assert.match(out.output, /Bearer \[REDACTED_TOKEN\]/);
      for (const text of [acme.stdout, acme.stderr]) {
        assert.ok(!text.includes(awsKey) && !text.includes("cli-bearer-token"), text);
      }
      assert.deepEqual(lines(acme.stderr).slice(0, 2), [
        "redacting with tenant acme: all 16 kinds, namespaces hashed",
        "layer 1 (structured, json): 2 redactions (token 1, aws_key 1)",
      ]);
      assert.equal(fallback.code, 0, fallback.stderr);
      assert.match(fallback.stdout, /"k8s\.ns\.name": "\[REDACTED_NAMESPACE\]"/);
      assert.match(fallback.stderr, /^redacting with the default policy \(no tenant given\)/);
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stderr, 'zen: no tenant "nope" in the configuration\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("zen sign", () => {
  let sink: WebhookSink;
  let service: TestService;
  let env: Record<string, string>;

  before(async () => {
    sink = await WebhookSink.start();
    service = await startTestService({
      yaml: yamlFor(sink.url),
      env: {
        GH_SECRET: ghSecret,
        HOOK_SECRET: hookSecret,
        HOOK_API_KEY: hookApiKey,
        WEBHOOK_SECRET: webhookSecret,
      },
    });
    env = {
      HOOK_API_KEY: hookApiKey,
      ZEN_CONFIG: service.config.configPath ?? "",
      ZEN_DATA_DIR: service.dataDir,
      GH_SECRET: ghSecret,
      HOOK_SECRET: hookSecret,
      WEBHOOK_SECRET: webhookSecret,
    };
  });
  after(async () => {
    await service?.close();
    await sink?.close();
  });

  it("prints a curl command that a running service accepts (github preset and /webhooks/generic)", async () => {
    const data = `{"zen":"it's signed","n":1}`;
    const [gh, generic] = await Promise.all([
      zen(
        [
          "sign",
          "--tenant",
          "acme",
          "--source",
          "gh",
          "--type",
          "push",
          "--data",
          data,
          "--event-id",
          "cli-sign-1",
          "--url",
          service.url,
        ],
        env,
      ),
      zen(
        [
          "sign",
          "--tenant",
          "default",
          "--source",
          "generic",
          "--type",
          "deploy",
          "--data",
          data,
          "--event-id",
          "cli-sign-2",
          "--url",
          service.url,
        ],
        env,
      ),
    ]);
    for (const result of [gh, generic]) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^curl -sS -X POST '/);
      assert.ok(
        !result.stdout.includes(ghSecret) && !result.stdout.includes(webhookSecret),
        "secret printed",
      );
    }
    assert.ok(gh.stdout.includes(`'${service.url}/webhooks/acme/gh'`));
    assert.ok(generic.stdout.includes(`'${service.url}/webhooks/generic'`));
    assert.ok(gh.stdout.includes(" -H 'x-github-event: push'"));
    assert.ok(generic.stdout.includes(" -H 'x-event-type: deploy'"));

    const sent = await bash(gh.stdout);
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(JSON.parse(sent.stdout), { status: "accepted", eventId: "cli-sign-1", deliveries: 1 });
    // The same command again is a provider redelivery: answered, not delivered twice.
    assert.deepEqual(JSON.parse((await bash(gh.stdout)).stdout), {
      status: "duplicate",
      eventId: "cli-sign-1",
    });

    const genericSent = await bash(generic.stdout);
    assert.equal(JSON.parse(genericSent.stdout).status, "accepted", genericSent.stdout);

    await sink.waitForRequests(2, 15_000);
    const delivered = sink.requests.map((r) => JSON.parse(r.body) as { id: string; data: unknown });
    const signed = delivered.find((e) => e.id === "cli-sign-1") as
      | { type?: string; data: unknown }
      | undefined;
    assert.deepEqual(signed?.data, JSON.parse(data), "the body travelled byte for byte");
    assert.equal(signed?.type, "push");
    assert.equal(
      (delivered.find((e) => e.id === "cli-sign-2") as { type?: string } | undefined)?.type,
      "deploy",
    );
  });

  it("fails with exit 1 for an unknown tenant or source, and 2 for an invalid config", async () => {
    const [tenant, source, config, typeInBody] = await Promise.all([
      zen(["sign", "--tenant", "nope", "--source", "gh"], env),
      zen(["sign", "--tenant", "acme", "--source", "nope"], env),
      zen(["sign", "--tenant", "acme", "--source", "gh"], { ...env, GH_SECRET: "" }),
      zen(["sign", "--tenant", "acme", "--source", "pay", "--type", "invoice.paid"], env),
    ]);
    assert.equal(typeInBody.code, 1);
    assert.equal(
      typeInBody.stderr,
      'zen: source "pay" reads the event type from the body at $.type: put it in --data instead of --type\n',
    );
    assert.equal(tenant.code, 1);
    assert.equal(tenant.stderr, 'zen: no tenant "nope" in the configuration\n');
    assert.equal(source.code, 1);
    assert.equal(source.stderr, 'zen: tenant "acme" has no source "nope"\n');
    assert.equal(config.code, 2);
    assert.match(
      config.stderr,
      /^tenants\[0\]\.sources\[0\]\.secrets\[0\]: environment variable GH_SECRET is /,
    );
  });
});

describe("zen dlq and zen trace (on a data dir with real DLQ entries)", () => {
  let sink: WebhookSink;
  let dataDir: string;
  let env: Record<string, string>;
  const serviceEnv = {
    GH_SECRET: ghSecret,
    HOOK_SECRET: hookSecret,
    HOOK_API_KEY: hookApiKey,
    WEBHOOK_SECRET: webhookSecret,
  };
  const hookIds = ["cli-dlq-1", "cli-dlq-2", "cli-dlq-3"];
  const otherId = "cli-dlq-other";

  before(async () => {
    sink = await WebhookSink.start({ fallback: { status: 400, body: "nope" } });
    dataDir = makeDataDir();
    const service = await startTestService({ yaml: yamlFor(sink.url), env: serviceEnv, dataDir });
    try {
      for (const eventId of hookIds) {
        await acceptSignedGithub({
          baseUrl: service.url,
          tenant: "acme",
          source: "gh",
          secret: ghSecret,
          eventId,
        });
      }
      await acceptSignedGithub({
        baseUrl: service.url,
        tenant: "acme",
        source: "gh",
        secret: ghSecret,
        eventId: otherId,
        type: "other",
      });
      await waitFor("4 DLQ entries", async () => (await service.service.stores.queue.stats()).dlq === 4);
    } finally {
      await service.close();
    }
    env = { ZEN_CONFIG: join(dataDir, "zen.yaml"), ZEN_DATA_DIR: dataDir, ...serviceEnv };
  });

  after(async () => {
    await sink?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** `dlq ls` rows as objects (header line names the columns). */
  const table = (stdout: string) => {
    const [header, ...rows] = lines(stdout).filter((l) => !l.startsWith("more: "));
    const columns = (header ?? "").split("\t");
    return rows.map((row) => Object.fromEntries(row.split("\t").map((cell, i) => [columns[i], cell])));
  };

  it("dlq ls lists entries, filters, and pages with --limit/--cursor", async () => {
    const [all, hook, none, page1] = await Promise.all([
      zen(["dlq", "ls"], env),
      zen(["dlq", "ls", "--destination", "hook"], env),
      zen(["dlq", "ls", "--tenant", "nobody"], env),
      zen(["dlq", "ls", "--limit", "3"], env),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const rows = table(all.stdout);
    assert.equal(rows.length, 4);
    assert.deepEqual(Object.keys(rows[0] ?? {}), [
      "id",
      "failed at",
      "tenant",
      "destination",
      "event id",
      "reason",
      "attempts",
      "last error",
    ]);
    assert.ok(
      rows.every((r) => r.reason === "validation_failed" && r.attempts === "1" && r.tenant === "acme"),
    );
    assert.ok(rows.every((r) => r["last error"] === "validation_failed: HTTP 400: nope"));
    assert.deepEqual(new Set(rows.map((r) => r["event id"])), new Set([...hookIds, otherId]));

    assert.deepEqual(new Set(table(hook.stdout).map((r) => r["event id"])), new Set(hookIds));
    assert.equal(none.stdout, "the DLQ is empty (for this filter)\n");

    const more = lines(page1.stdout).at(-1) ?? "";
    assert.match(more, /^more: --cursor \S+$/);
    assert.equal(table(page1.stdout).length, 3);
    const page2 = await zen(
      ["dlq", "ls", "--limit", "3", "--cursor", more.slice("more: --cursor ".length)],
      env,
    );
    assert.equal(page2.code, 0, page2.stderr);
    const rest = table(page2.stdout);
    assert.equal(rest.length, 1);
    assert.ok(!lines(page2.stdout).some((l) => l.startsWith("more: ")));
    assert.deepEqual(
      [...table(page1.stdout), ...rest].map((r) => r.id),
      rows.map((r) => r.id),
    );

    const [badLimit, badCursor] = await Promise.all([
      zen(["dlq", "ls", "--limit", "0"], env),
      zen(["dlq", "ls", "--cursor", "garbage"], env),
    ]);
    assert.notEqual(badLimit.code, 0);
    assert.match(badLimit.stderr, /--limit/);
    assert.equal(badCursor.code, 1);
    assert.equal(badCursor.stderr, "zen: invalid DLQ cursor\n");
  });

  it("refuses a data dir without a store instead of creating an empty one", async () => {
    const empty = makeDataDir();
    try {
      const missing = join(empty, "typo");
      const results = await Promise.all([
        zen(["dlq", "ls"], { ...env, ZEN_DATA_DIR: missing }),
        zen(["dlq", "purge", "--all"], { ...env, ZEN_DATA_DIR: missing }),
        zen(["trace", "x"], { ...env, ZEN_DATA_DIR: missing }),
      ]);
      for (const result of results) {
        assert.equal(result.code, 1);
        assert.equal(result.stdout, "");
        assert.equal(
          result.stderr,
          `zen: no store at ${join(missing, "zen.db")}: set ZEN_DATA_DIR to the service's data dir\n`,
        );
      }
      assert.ok(!existsSync(missing), "nothing was created");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("dlq show prints one entry with its event; an unknown id exits 1", async () => {
    const rows = table((await zen(["dlq", "ls", "--destination", "other"], env)).stdout);
    const id = rows[0]?.id ?? "";
    const [shown, unknown] = await Promise.all([
      zen(["dlq", "show", id], env),
      zen(["dlq", "show", "999999"], env),
    ]);
    assert.equal(shown.code, 0, shown.stderr);
    const entry = JSON.parse(shown.stdout) as Record<string, unknown>;
    assert.equal(entry.id, id);
    assert.equal(entry.eventId, otherId);
    assert.equal(entry.reason, "validation_failed");
    assert.equal((entry.event as { type: string }).type, "other");
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "zen: no DLQ entry 999999\n");
  });

  it("dlq replay and purge need an id, filters or --all; replayed entries are delivered after a restart", async () => {
    const [replayNothing, purgeNothing] = await Promise.all([
      zen(["dlq", "replay"], env),
      zen(["dlq", "purge"], env),
    ]);
    assert.equal(replayNothing.code, 1);
    assert.equal(replayNothing.stderr, "zen: give an id, filters, or --all\n");
    assert.equal(purgeNothing.code, 1);
    assert.equal(purgeNothing.stderr, "zen: give an id, filters, or --all\n");

    const rows = table((await zen(["dlq", "ls", "--destination", "hook"], env)).stdout);
    const [first, second] = rows;
    assert.ok(first && second);
    // One by id, one purged by id, the rest of `hook` replayed by filter; `other` stays.
    const byId = await zen(["dlq", "replay", first.id ?? ""], env);
    assert.equal(byId.stdout, "replayed 1\n");
    const purged = await zen(["dlq", "purge", second.id ?? ""], env);
    assert.equal(purged.stdout, "purged 1\n");
    assert.equal((await zen(["dlq", "purge", second.id ?? ""], env)).stdout, "purged 0\n");
    const byFilter = await zen(["dlq", "replay", "--destination", "hook"], env);
    assert.equal(byFilter.stdout, "replayed 1\n");
    const left = table((await zen(["dlq", "ls"], env)).stdout);
    assert.deepEqual(
      left.map((r) => r["event id"]),
      [otherId],
    );

    // The receiver is fixed; the service starts again on the same data dir and delivers the replays.
    sink.reset();
    const restarted = await startTestService({ yaml: yamlFor(sink.url), env: serviceEnv, dataDir });
    try {
      await sink.waitForRequests(2, 15_000);
      const delivered = new Set(sink.requests.map((r) => (JSON.parse(r.body) as { id: string }).id));
      assert.deepEqual(delivered, new Set([first["event id"], rows[2]?.["event id"]]));
      await waitFor(
        "the replays to complete",
        async () =>
          (await restarted.service.stores.queue.stats()).ready === 0 &&
          (await restarted.service.stores.queue.stats()).leased === 0,
      );

      // trace reads the store beside the live service.
      const eventId = first["event id"] ?? "";
      const traced = await waitFor("trace to show delivered", async () => {
        const result = await zen(["trace", eventId], env);
        return result.stdout.includes("→ hook: delivered") ? result : undefined;
      });
      assert.equal(traced.code, 0, traced.stderr);
      const out = lines(traced.stdout);
      assert.equal(out[0], `event ${eventId} (tenant acme, source gh, type push)`);
      assert.equal(out[1], "  → hook: delivered — delivered on attempt 1");
      assert.equal(out[2], "  trail:");
      const stages = out.slice(3).map((l) => l.trim().split(" ")[1]);
      assert.deepEqual(stages.slice(0, 2), ["received", "attempt"]);
      assert.match(
        out[3] ?? "",
        / received \{"source":"gh","type":"push","routes":\[.*\],"destinations":\["hook"\]\}$/,
      );
      assert.ok(
        out.some((l) =>
          / attempt hook #1 \{"outcome":"dead_lettered","statusCode":400,.*"reason":"validation_failed"\}$/.test(
            l,
          ),
        ),
      );
      assert.ok(out.some((l) => / dead_lettered hook #1 /.test(l)));
      assert.ok(out.some((l) => / attempt hook #1 \{"outcome":"delivered","statusCode":200,/.test(l)));
      assert.ok(out.some((l) => / delivered hook #1 /.test(l)));

      const [otherTrace, scoped, unknown, wrongTenant] = await Promise.all([
        zen(["trace", otherId], env),
        zen(["trace", eventId, "--tenant", "acme"], env),
        zen(["trace", "no-such-event"], env),
        zen(["trace", eventId, "--tenant", "default"], env),
      ]);
      assert.match(
        otherTrace.stdout,
        /\n {2}→ other: dead_lettered — in the DLQ: validation_failed \(validation_failed: HTTP 400: nope\)\n/,
      );
      assert.equal(scoped.stdout, traced.stdout);
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stdout, "");
      assert.equal(unknown.stderr, "zen: no event no-such-event (unknown, or its trail has expired)\n");
      assert.equal(wrongTenant.code, 1);
    } finally {
      await restarted.close();
    }
  });
});
