/**
 * The Slack destination end to end, through the real interfaces only: signed webhooks (github preset)
 * and Falco-like token-verified posts to the real intake, the real SQLite queue and worker, the admin
 * API, and every call the fake Slack (test/fakes/fake-slack.ts) received over real HTTP.
 *
 * Covered: one Block Kit message with a text fallback per event; repeats thread / update / post;
 * each Slack error class (DLQ reason + `lastError` "slack: <code>", or retried then delivered); a 429
 * storm with `Retry-After: 1` (no call before it elapsed) that opens the breaker as docs/guards.md
 * says; a Falco-like event with a bearer token and an AWS key reaching Slack redacted, an allowlisted
 * namespace passing through and a hashed one the same in two deliveries.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { hashNamespace } from "../src/redaction/namespace-labeler.ts";
import { FakeSlack, type FakeSlackCall, fakeBotToken } from "./fakes/fake-slack.ts";
import { startTestService, type TestService } from "./support/service.ts";
import { acceptSignedGithub, waitFor } from "./support/signed.ts";

const ghSecret = "slack-e2e-github-secret-not-real";
const falcoToken = "slack-e2e-falco-token-not-real";
const adminToken = "slack-e2e-admin-token-not-real";
const nsHashKey = "slack-e2e-namespace-hash-key-not-real";
const wrongToken = "slack-e2e-wrong-token-not-real";
const revokedToken = "slack-e2e-revoked-token-not-real";

/** Channels: one per destination, so the fake's per-channel records tell destinations apart. */
const ch = {
  alerts: "C0ALERTS01",
  updates: "C0UPDATE01",
  posts: "C0POSTS001",
  sec: "C0SECURE01",
  scripted: "C0SCRIPT01",
  storm: "C0STORM001",
  archived: "C0ARCHIVE1",
  outside: "C0OUTSIDE1",
  badBlocks: "C0BLOCKS01",
} as const;

function yaml(): string {
  const dest = (id: string, extra: string) => `      - { id: ${id}, type: slack, ${extra} }`;
  const route = (type: string, to: string) =>
    `      - { from: [gh], when: { type: "${type}" }, to: [${to}] }`;
  return [
    "tenants:",
    "  - id: acme",
    "    redaction:",
    "      namespaces: { mode: hash, hashKey: env:NS_HASH_KEY, allow: [kube-system] }",
    "    sources:",
    "      - id: gh",
    "        preset: github",
    "        secrets: [env:GH_SECRET]",
    '        fields: { fingerprint: { jsonPath: "$.alert" }, subject: { jsonPath: "$.title" }, severity: { jsonPath: "$.severity" } }',
    "      - id: falco",
    "        verify: { token: { header: x-falco-token } }",
    "        secrets: [env:FALCO_TOKEN]",
    '        eventType: { jsonPath: "$.rule" }',
    '        fields: { severity: { jsonPath: "$.priority" }, subject: { jsonPath: "$.rule" } }',
    "    destinations:",
    dest("alerts", `channel: ${ch.alerts}`),
    dest("updates", `channel: ${ch.updates}, onRepeat: update`),
    dest("posts", `channel: ${ch.posts}, onRepeat: post`),
    dest("scripted", `channel: ${ch.scripted}, onRepeat: post`),
    dest("storm", `channel: ${ch.storm}, onRepeat: post`),
    dest("gone", "channel: C0GONE0001"),
    dest("archived", `channel: ${ch.archived}`),
    dest("outside", `channel: ${ch.outside}`),
    dest("badauth", `channel: ${ch.alerts}, token: env:WRONG_SLACK_TOKEN`),
    dest("revoked", `channel: ${ch.alerts}, token: env:REVOKED_SLACK_TOKEN`),
    dest("badblocks", `channel: ${ch.badBlocks}, templates: { blocks: '[{"type": "bogus"}]' }`),
    dest(
      "notext",
      `channel: ${ch.badBlocks}, templates: { text: "{% if false %}x{% endif %}", blocks: "[]" }`,
    ),
    "      - id: sec",
    "        type: slack",
    `        channel: ${ch.sec}`,
    "        templates:",
    '          text: "{{ event.subject }}: {{ event.data.output | truncate: 2900 }}"',
    `          blocks: '[{"type": "section", "text": {"type": "mrkdwn", "text": {{ event.data.output_fields | json | truncate: 2900 | json }}}}]'`,
    "    routes:",
    route("alert", "alerts"),
    route("status", "updates"),
    route("note", "posts"),
    route("scripted", "scripted"),
    route("storm", "storm"),
    ...["gone", "archived", "outside", "badauth", "revoked", "badblocks", "notext"].map((d) =>
      route(`err.${d}`, d),
    ),
    "      - { from: [falco], to: [sec] }",
    "",
  ].join("\n");
}

interface Trace {
  readonly destinations: Record<string, { state: string; detail: string }>;
}
interface DlqItem {
  readonly eventId: string;
  readonly destination: string;
  readonly reason: string;
  readonly attempts: number;
  readonly lastError: string | null;
}
interface BreakerRow {
  readonly tenant: string;
  readonly destination: string;
  readonly state: string;
}

describe("Slack destination end to end", () => {
  let slack: FakeSlack;
  let service: TestService;
  let counter = 0;

  async function admin<T>(path: string): Promise<T> {
    const response = await fetch(`${service.url}${path}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(response.status, 200, path);
    return (await response.json()) as T;
  }

  /** Posts one signed github-preset event of `type`; returns its event id. */
  async function post(type: string, data: Record<string, unknown> = {}): Promise<string> {
    counter++;
    const eventId = `slack-e2e-${counter}-${randomBytes(4).toString("hex")}`;
    await acceptSignedGithub({
      baseUrl: service.url,
      tenant: "acme",
      source: "gh",
      secret: ghSecret,
      eventId,
      type,
      data: { title: `${type} number ${counter}`, severity: "high", ...data },
    });
    return eventId;
  }

  const settled = (eventId: string, destination: string, state: string, timeoutMs = 20_000) =>
    waitFor(
      `${eventId} → ${destination} ${state}`,
      async () => {
        const trace = await admin<Trace>(`/admin/events/acme/${eventId}`);
        return trace.destinations[destination]?.state === state ? trace : undefined;
      },
      timeoutMs,
    );

  const dlqEntry = async (eventId: string): Promise<DlqItem> => {
    const page = await admin<{ items: DlqItem[] }>("/admin/dlq?tenant=acme&limit=500");
    const entry = page.items.find((item) => item.eventId === eventId);
    assert.ok(entry, `no DLQ entry for ${eventId}`);
    return entry;
  };

  const postsTo = (channel: string): FakeSlackCall[] =>
    slack.callsOf("chat.postMessage").filter((c) => c.args.channel === channel);

  before(async () => {
    slack = await FakeSlack.start({
      channels: [
        ch.alerts,
        ch.updates,
        ch.posts,
        ch.sec,
        ch.scripted,
        ch.storm,
        ch.badBlocks,
        { id: ch.archived, archived: true },
        { id: ch.outside, member: false },
      ],
      deadTokens: { [revokedToken]: "token_revoked" },
    });
    service = await startTestService({
      yaml: yaml(),
      env: {
        GH_SECRET: ghSecret,
        FALCO_TOKEN: falcoToken,
        NS_HASH_KEY: nsHashKey,
        SLACK_BOT_TOKEN: fakeBotToken,
        SLACK_API_URL: slack.url,
        WRONG_SLACK_TOKEN: wrongToken,
        REVOKED_SLACK_TOKEN: revokedToken,
        ZEN_ADMIN_TOKEN: adminToken,
        CIRCUIT_BREAKER_MAX_FAILURES: "3",
        CIRCUIT_BREAKER_TIMEOUT: "2s",
      },
    });
  });

  after(async () => {
    await service?.close();
    await slack?.close();
  });

  it("delivers exactly one Block Kit message with a text fallback, with the bot token as Bearer", async () => {
    const eventId = await post("alert", { alert: "disk-db-01", title: "Disk full on db-01" });
    await settled(eventId, "alerts", "delivered");
    const messages = slack.messages(ch.alerts);
    assert.equal(messages.length, 1);
    const [message] = messages;
    assert.equal(message?.text, "🟠 [HIGH] alert — Disk full on db-01");
    const blocks = message?.blocks as { type: string; text?: { text: string } }[];
    assert.deepEqual(
      blocks.map((b) => b.type),
      ["header", "section", "context"],
    );
    assert.equal(blocks[1]?.text?.text, "*Disk full on db-01*");
    const [call] = postsTo(ch.alerts);
    assert.equal(call?.token, fakeBotToken);
    assert.equal(call?.tokenFrom, "header");
    assert.equal(call?.contentType, "application/x-www-form-urlencoded");
  });

  it("thread (default): a repeat of the fingerprint replies under the first message", async () => {
    const repeat = await post("alert", { alert: "disk-db-01", title: "Disk still full on db-01" });
    await settled(repeat, "alerts", "delivered");
    const top = slack.messages(ch.alerts).filter((m) => m.threadTs === undefined);
    assert.equal(top.length, 1);
    const replies = slack.replies(ch.alerts, top[0]?.ts ?? "");
    assert.deepEqual(
      replies.map((m) => m.text),
      ["🟠 [HIGH] alert — Disk still full on db-01"],
    );
  });

  it("update: a repeat edits the first message; post: every event is a new message", async () => {
    for (const title of ["Deploy started", "Deploy finished"]) {
      await settled(await post("status", { alert: "deploy-42", title }), "updates", "delivered");
    }
    const updated = slack.messages(ch.updates);
    assert.equal(updated.length, 1);
    assert.equal(updated[0]?.edits, 1);
    assert.equal(updated[0]?.text, "🟠 [HIGH] status — Deploy finished");

    for (const title of ["Note one", "Note two"]) {
      await settled(await post("note", { alert: "notes", title }), "posts", "delivered");
    }
    assert.deepEqual(
      slack.messages(ch.posts).map((m) => [m.text, m.threadTs]),
      [
        ["🟠 [HIGH] note — Note one", undefined],
        ["🟠 [HIGH] note — Note two", undefined],
      ],
    );
  });

  describe("error classes: permanent failures go to the DLQ at once with Slack's code", () => {
    const cases = [
      { destination: "gone", reason: "not_found", code: "channel_not_found" },
      { destination: "archived", reason: "not_found", code: "is_archived" },
      { destination: "outside", reason: "permission_denied", code: "not_in_channel" },
      { destination: "badauth", reason: "invalid_auth", code: "invalid_auth" },
      { destination: "revoked", reason: "invalid_auth", code: "token_revoked" },
      { destination: "badblocks", reason: "validation_failed", code: "invalid_blocks" },
      { destination: "notext", reason: "validation_failed", code: "no_text" },
    ] as const;
    for (const c of cases) {
      it(`${c.code} → ${c.reason}`, async () => {
        const eventId = await post(`err.${c.destination}`);
        await settled(eventId, c.destination, "dead_lettered");
        const entry = await dlqEntry(eventId);
        assert.equal(entry.destination, c.destination);
        assert.equal(entry.reason, c.reason);
        assert.equal(entry.attempts, 1, "no retry for a permanent failure");
        assert.equal(entry.lastError, `${c.reason}: slack: ${c.code} (chat.postMessage)`);
        for (const token of [fakeBotToken, wrongToken, revokedToken]) {
          assert.equal(entry.lastError?.includes(token), false, "no token in lastError");
        }
      });
    }

    for (const [code, reason] of [
      ["missing_scope", "permission_denied"],
      ["msg_too_long", "validation_failed"],
      ["invalid_arguments", "validation_failed"],
      ["not_authed", "invalid_auth"],
      ["account_inactive", "invalid_auth"],
      ["token_expired", "invalid_auth"],
    ] as const) {
      it(`${code} (scripted) → ${reason}`, async () => {
        slack.failNext("chat.postMessage", { error: code });
        const eventId = await post("scripted");
        await settled(eventId, "scripted", "dead_lettered");
        const entry = await dlqEntry(eventId);
        assert.equal(entry.reason, reason);
        assert.match(entry.lastError ?? "", new RegExp(`^${reason}: slack: ${code} \\(chat\\.postMessage`));
      });
    }
  });

  describe("error classes: retryable failures are retried, then delivered", () => {
    for (const failure of [
      { name: "HTTP 503", script: { status: 503 as const } },
      { name: "HTTP 500", script: { status: 500 as const } },
      { name: "fatal_error", script: { error: "fatal_error" } },
      { name: "internal_error", script: { error: "internal_error" } },
      { name: "service_unavailable", script: { error: "service_unavailable" } },
      { name: "request_timeout", script: { error: "request_timeout" } },
      { name: "a dropped connection", script: { drop: true } },
    ]) {
      it(`${failure.name} → retried and delivered`, async () => {
        const before = postsTo(ch.scripted).length;
        slack.failNext("chat.postMessage", failure.script);
        const eventId = await post("scripted");
        const trace = await settled(eventId, "scripted", "delivered");
        assert.ok(trace);
        assert.equal(postsTo(ch.scripted).length - before, 2, "one failed attempt, one delivered");
        const messages = slack
          .messages(ch.scripted)
          .filter((m) => m.text?.includes(`scripted number ${counter}`));
        assert.equal(messages.length, 1);
      });
    }
  });

  it("a 429 storm with Retry-After: 1 is respected and opens the breaker", async () => {
    const breakerOpens = async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const m = /^zen_circuit_transitions_total\{[^}]*destination="storm"[^}]*to="open"[^}]*\} (\d+)$/m.exec(
        text,
      );
      return Number(m?.[1] ?? 0);
    };
    const opensBefore = await breakerOpens();
    slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 1, count: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await post("storm"));
    const titles = ids.map((_, i) => `storm number ${counter - 2 + i}`);

    await waitFor("the storm breaker to open", async () => {
      const { items } = await admin<{ items: BreakerRow[] }>("/admin/breakers");
      return items.find((row) => row.destination === "storm")?.state === "open";
    });
    for (const id of ids) await settled(id, "storm", "delivered", 30_000);

    const calls = postsTo(ch.storm);
    assert.equal(calls.length, 6, "three 429s, then one delivered call each");
    for (const title of titles) {
      const mine = calls.filter((c) => String(c.args.text).includes(title));
      assert.equal(mine.length, 2, title);
      const [limited, delivered] = mine;
      assert.equal(limited?.status, 429);
      assert.equal(delivered?.status, 200);
      assert.ok(
        (delivered?.at ?? 0) - (limited?.at ?? 0) >= 1000,
        `${title}: called again ${(delivered?.at ?? 0) - (limited?.at ?? 0)} ms after a Retry-After of 1 s`,
      );
    }
    assert.equal(slack.messages(ch.storm).length, 3);
    assert.ok((await breakerOpens()) > opensBefore, "zen_circuit_transitions_total{to=open} grew");
    const { items } = await admin<{ items: BreakerRow[] }>("/admin/breakers");
    assert.equal(items.find((row) => row.destination === "storm")?.state, "closed");
  });

  describe("redaction (issue 6's Slack point): a Falco-like event reaches Slack redacted", () => {
    // The fixture of test/redaction.e2e.test.ts: a Falco JSON output whose command line carries a
    // bearer token (a JWT) and an AWS access key, generated at random per run.
    const awsAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const awsKey = `AKIA${Array.from(randomBytes(16), (b) => awsAlphabet[b % 32]).join("")}`;
    const jwtHeader = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const jwtPayload = Buffer.from(
      JSON.stringify({ sub: `svc-${randomBytes(9).toString("base64url")}`, exp: 1_900_000_000 }),
    ).toString("base64url");
    const jwtSignature = randomBytes(32).toString("base64url");
    const jwt = `${jwtHeader}.${jwtPayload}.${jwtSignature}`;
    const randomParts = [jwtPayload, jwtSignature, awsKey.slice(4)];
    let seq = 0;

    function falcoEvent(): Record<string, unknown> {
      seq++;
      const cmdline = `curl -sS -H 'Authorization: Bearer ${jwt}' https://internal.example.com/upload && aws s3 cp /data s3://backups --access-key ${awsKey}`;
      return {
        hostname: `node-${seq}`,
        output: `2026-10-01T11:59:58.123456789+0000: Critical A shell was spawned in a container | evt_type=execve user=root process=sh command=${cmdline} container_name=shell-demo k8s_pod_name=shell-demo k8s_ns_name=payments`,
        output_fields: {
          "container.name": "shell-demo",
          "k8s.ns.name": "payments",
          "ka.target.namespace": "kube-system",
          "proc.cmdline": cmdline,
          seq,
        },
        priority: "Critical",
        rule: "Terminal shell in container",
        source: "syscall",
        time: `2026-10-01T11:59:${String(seq).padStart(2, "0")}.123456789Z`,
      };
    }

    before(async () => {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${service.url}/webhooks/acme/falco`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-falco-token": falcoToken },
          body: JSON.stringify(falcoEvent()),
        });
        const answer = (await response.json()) as { eventId?: string };
        assert.equal(response.status, 200);
        await settled(answer.eventId ?? "", "sec", "delivered");
      }
    });

    it("no byte sent to Slack holds the token or the AWS key; placeholders do", () => {
      const calls = slack.calls.filter((c) => c.args.channel === ch.sec);
      assert.equal(calls.length, 2);
      for (const [i, call] of calls.entries()) {
        const sent = JSON.stringify(call.args);
        for (const part of randomParts) {
          for (let j = 0; j + 8 <= part.length; j++) {
            assert.ok(!sent.includes(part.slice(j, j + 8)), `call ${i} holds a piece of a secret`);
          }
        }
        assert.ok(!sent.includes("payments"), `call ${i} names the hashed namespace`);
      }
      const [message] = slack.messages(ch.sec);
      assert.match(message?.text ?? "", /Authorization: Bearer \[REDACTED_TOKEN\]/);
      assert.match(message?.text ?? "", /--access-key \[REDACTED_API_KEY\]/);
    });

    it("an allowlisted namespace passes through; another is the same ns-<hash> in both deliveries", () => {
      const label = hashNamespace("payments", Buffer.from(nsHashKey, "utf8"));
      const fields = slack.messages(ch.sec).map((m) => {
        const block = (m.blocks as { text: { text: string } }[])[0];
        return JSON.parse(block?.text.text ?? "{}") as Record<string, string>;
      });
      assert.equal(fields.length, 2);
      for (const f of fields) {
        assert.equal(f["k8s.ns.name"], label);
        assert.equal(f["ka.target.namespace"], "kube-system");
      }
      for (const m of slack.messages(ch.sec)) assert.ok(m.text?.endsWith(`k8s_ns_name=${label}`), m.text);
    });
  });
});
