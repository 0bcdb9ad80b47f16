/**
 * Slack as a source over HTTP, end to end: the real service (real config loading, a real SQLite file,
 * HTTP on port 0) receiving requests signed the way Slack signs them (v0 HMAC over the raw bytes),
 * sent over raw sockets where a client library would normalize what the case is about (doubled
 * headers). Every refusal is checked for its exact status and code, and for leaving nothing stored.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../src/config/load-config.ts";
import { presetProfile } from "../src/intake/verify/presets.ts";
import { signRequest } from "../src/intake/verify/sign-request.ts";
import { compileVerifier } from "../src/intake/verify/verifier.ts";
import { silentLogger } from "../src/observability/logger.ts";
import type { Clock } from "../src/ports/clock.ts";
import { type RunningService, startService } from "../src/service.ts";
import type { BlockActionsHandler, BlockActionsPayload } from "../src/slack/interactions.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { type HeaderList, type RawResponse, raw } from "./support/requests.ts";
import { countRows, makeDataDir, testConfig } from "./support/service.ts";
import { waitFor } from "./support/signed.ts";

const slack = presetProfile("slack");
const defaultOld = "default-old-secret-not-real";
const defaultNew = "default-new-secret-not-real";
const acmeSecret = "acme-slack-secret-not-real";
const form = "application/x-www-form-urlencoded";

/** Slack's published test vector (providers.md §1.1). */
const vector = {
  secret: "8f742231b10e8888abcd99yyyzzz85a5",
  timestamp: "1531420618",
  body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
};

interface Started {
  readonly service: RunningService;
  readonly url: string;
  readonly dataDir: string;
}

/** A `block_actions` handler that owns `test:` buttons and records what it was handed. */
class RecordingHandler implements BlockActionsHandler {
  readonly actionPrefix = "test:";
  readonly calls: { payload: BlockActionsPayload; tenant: string }[] = [];
  async handle(payload: BlockActionsPayload, context: { tenant: string }) {
    this.calls.push({ payload, tenant: context.tenant });
    return { kind: "ephemeral", text: `clicked ${payload.actions[0]?.value ?? ""}` } as const;
  }
}

const yaml = `
tenants:
  - id: acme
    providers:
      slack: { signingSecrets: [env:ACME_SLACK_SECRET], teams: [T0ACME] }
    destinations:
      - { id: hook, type: webhook, url: "SINK_URL" }
    routes:
      - { from: [slack], to: [hook] }
`;

async function start(
  sinkUrl: string,
  options: { clock?: Clock; env?: Record<string, string>; handlers?: BlockActionsHandler[] } = {},
): Promise<Started> {
  const dataDir = makeDataDir();
  const config = testConfig(dataDir, {
    yaml: yaml.replace("SINK_URL", sinkUrl),
    env: {
      SLACK_SIGNING_SECRET: `${defaultOld},${defaultNew}`,
      ACME_SLACK_SECRET: acmeSecret,
      ...options.env,
    },
  });
  const service = await startService(config, {
    logger: silentLogger(),
    ...(options.clock && { clock: options.clock }),
    slack: { blockActionHandlers: options.handlers ?? [] },
  });
  return { service, url: service.url, dataDir };
}

function eventBody(eventId: string, team = "T0DEFAULT"): string {
  return JSON.stringify({
    token: "deprecated-verification-token",
    team_id: team,
    api_app_id: "A0APP",
    event: { type: "app_mention", user: "U1", text: "hello", ts: "1515449522.000016", channel: "C1" },
    type: "event_callback",
    event_id: eventId,
    event_time: 1515449522,
  });
}

function commandBody(text: string, team = "T0DEFAULT", extra = ""): string {
  return new URLSearchParams({
    team_id: team,
    user_id: "U2CERLKJA",
    command: "/zen",
    text,
    response_url: "https://hooks.slack.com/commands/T0DEFAULT/1/abc",
    trigger_id: `trigger-${text}-${extra}-${Math.random()}`,
  }).toString();
}

function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function blockAction(actionId: string, team = "T0DEFAULT", value = "v1") {
  return {
    type: "block_actions",
    team: { id: team, domain: "example" },
    user: { id: "UA8RXUSPL", username: "jtorrance" },
    api_app_id: "AABA1ABCD",
    container: { type: "message", message_ts: "1548261231.000200", channel_id: "CBR2V3XEX" },
    trigger_id: `t-${Math.random()}`,
    response_url: "https://hooks.slack.com/actions/AABA1ABCD/1/D09",
    actions: [{ type: "button", action_id: actionId, block_id: "b1", value, action_ts: "1548426417.840180" }],
  };
}

/** v0 headers for `body` signed with `secret` at `nowMs`. */
function signed(secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  return signRequest(slack, secret, { body, nowMs });
}

async function post(
  base: string,
  path: string,
  body: string,
  headers: HeaderList,
  contentType = path === "/slack/events" ? "application/json" : form,
): Promise<RawResponse> {
  return raw(base, { path, body, headers: [["Content-Type", contentType], ...headers] });
}

function pairs(headers: Record<string, string>): HeaderList {
  return Object.entries(headers);
}

function errorCode(response: RawResponse): string | undefined {
  return response.body === ""
    ? undefined
    : (JSON.parse(response.body) as { error?: { code?: string } }).error?.code;
}

describe("Slack request signing: the verifier path", () => {
  it("verifies Slack's published test vector with the slack preset", () => {
    const verifier = compileVerifier(slack, [vector.secret]);
    const verified = verifier.verify({
      headers: { "x-slack-signature": vector.signature, "x-slack-request-timestamp": vector.timestamp },
      rawBody: Buffer.from(vector.body),
      url: "https://zen.example.com/slack/commands",
      nowMs: Number(vector.timestamp) * 1000 + 1_000,
    });
    assert.equal(verified.signature, vector.signature.slice(3));
    assert.equal(verified.timestampMs, Number(vector.timestamp) * 1000);
  });

  it("answers the test vector's slash command end to end (clock at the vector's time)", async () => {
    const sink = await WebhookSink.start();
    const clock: Clock = { now: () => Number(vector.timestamp) * 1000 + 2_000 };
    const s = await start(sink.url, { clock, env: { SLACK_SIGNING_SECRET: vector.secret } });
    try {
      const headers: HeaderList = [
        ["X-Slack-Signature", vector.signature],
        ["X-Slack-Request-Timestamp", vector.timestamp],
      ];
      const response = await post(s.url, "/slack/commands", vector.body, headers);
      assert.equal(response.status, 200);
      const reply = JSON.parse(response.body) as { response_type: string; text: string };
      assert.equal(reply.response_type, "ephemeral");
      assert.match(reply.text, /\/webhook-collect status/);
      // The same signed request again is a replay.
      const again = await post(s.url, "/slack/commands", vector.body, headers);
      assert.equal(again.status, 409);
      assert.equal(errorCode(again), "replayed");
    } finally {
      await s.service.stop({ graceMs: 500 });
      await sink.close();
    }
  });
});

describe("POST /slack/events", () => {
  let sink: WebhookSink;
  let s: Started;
  before(async () => {
    sink = await WebhookSink.start({ fallback: { status: 200, delayMs: 4_000 } });
    s = await start(sink.url);
  });
  after(async () => {
    await s.service.stop({ graceMs: 200 });
    await sink.close();
  });

  const events = () => countRows(s.dataDir, "events");

  it("answers url_verification with the challenge, after verifying, storing nothing", async () => {
    const body = JSON.stringify({
      token: "t",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY",
      type: "url_verification",
    });
    const before = events();
    const response = await post(s.url, "/slack/events", body, pairs(signed(defaultOld, body)));
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY" });
    const unsigned = await post(s.url, "/slack/events", body, []);
    assert.equal(unsigned.status, 401);
    assert.equal(errorCode(unsigned), "signature_missing");
    assert.equal(events(), before);
  });

  it("acks an event_callback fast while delivery is slow, and a retry is acked but not processed twice", async () => {
    const body = eventBody("Ev0FAST1", "T0ACME");
    const before = events();
    const started = Date.now();
    const first = await post(s.url, "/slack/events", body, pairs(signed(acmeSecret, body)));
    const elapsedMs = Date.now() - started;
    assert.equal(first.status, 200);
    assert.equal(first.body, "");
    assert.ok(elapsedMs < 1_000, `acked in ${elapsedMs} ms`);
    await sink.waitForRequests(1);
    // Slack's retry of the same event: new timestamp and signature, same event_id.
    const retry = await post(s.url, "/slack/events", body, [
      ...pairs(signed(acmeSecret, body)),
      ["X-Slack-Retry-Num", "1"],
      ["X-Slack-Retry-Reason", "http_timeout"],
    ]);
    assert.equal(retry.status, 200);
    assert.equal(events(), before + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(sink.requests.filter((r) => r.body.includes("Ev0FAST1")).length, 1);
  });

  it("accepts both rotated secrets of tenant default and refuses a third", async () => {
    const before = events();
    for (const [i, secret] of [defaultOld, defaultNew].entries()) {
      const body = eventBody(`Ev0ROT${i}`);
      const response = await post(s.url, "/slack/events", body, pairs(signed(secret, body)));
      assert.equal(response.status, 200, response.body);
    }
    const body = eventBody("Ev0ROT3");
    const third = await post(s.url, "/slack/events", body, pairs(signed("third-secret-not-real", body)));
    assert.equal(third.status, 401);
    assert.equal(errorCode(third), "signature_invalid");
    assert.equal(events(), before + 2);
  });

  it("verifies with the secret of the tenant the team belongs to, and no other", async () => {
    const before = events();
    // acme's team signed with default's secret, and an unlisted team signed with acme's: both refused.
    const acmeTeamDefaultSecret = eventBody("Ev0X1", "T0ACME");
    const otherTeamAcmeSecret = eventBody("Ev0X2", "T0OTHER");
    for (const [body, secret] of [
      [acmeTeamDefaultSecret, defaultOld],
      [otherTeamAcmeSecret, acmeSecret],
    ] as const) {
      const response = await post(s.url, "/slack/events", body, pairs(signed(secret, body)));
      assert.equal(response.status, 401);
      assert.equal(errorCode(response), "signature_invalid");
    }
    assert.equal(events(), before);
    const ok = eventBody("Ev0X3", "T0ACME");
    assert.equal((await post(s.url, "/slack/events", ok, pairs(signed(acmeSecret, ok)))).status, 200);
    const stored = await s.service.stores.queue.getEvent("acme", "Ev0X3");
    assert.equal(stored?.source, "slack");
    assert.equal(stored?.type, "app_mention");
    assert.equal(await s.service.stores.queue.getEvent("default", "Ev0X3"), undefined);
  });

  it("refuses every bad request with its code and stores nothing", async () => {
    const body = eventBody("Ev0BAD");
    const now = Date.now();
    const good = signed(defaultOld, body, now);
    const sig = good["x-slack-signature"] ?? "";
    const ts = good["x-slack-request-timestamp"] ?? "";
    const cases: {
      name: string;
      body?: string;
      headers: HeaderList;
      contentType?: string;
      status: number;
      code: string;
    }[] = [
      {
        name: "tampered",
        body: body.replace("hello", "hellO"),
        headers: pairs(good),
        status: 401,
        code: "signature_invalid",
      },
      {
        name: "stale",
        headers: pairs(signed(defaultOld, body, now - 301_000)),
        status: 401,
        code: "timestamp_stale",
      },
      {
        name: "future",
        headers: pairs(signed(defaultOld, body, now + 301_000)),
        status: 401,
        code: "timestamp_future",
      },
      {
        name: "v1",
        headers: [
          ["X-Slack-Signature", sig.replace("v0=", "v1=")],
          ["X-Slack-Request-Timestamp", ts],
        ],
        status: 400,
        code: "malformed_header",
      },
      {
        name: "no signature",
        headers: [["X-Slack-Request-Timestamp", ts]],
        status: 401,
        code: "signature_missing",
      },
      { name: "no timestamp", headers: [["X-Slack-Signature", sig]], status: 401, code: "timestamp_missing" },
      {
        name: "doubled signature",
        headers: [
          ["X-Slack-Signature", sig],
          ["X-Slack-Signature", sig],
          ["X-Slack-Request-Timestamp", ts],
        ],
        status: 400,
        code: "malformed_header",
      },
      {
        name: "doubled timestamp",
        headers: [
          ["X-Slack-Signature", sig],
          ["X-Slack-Request-Timestamp", ts],
          ["X-Slack-Request-Timestamp", ts],
        ],
        status: 400,
        code: "malformed_header",
      },
      {
        name: "non-integer timestamp",
        headers: [
          ["X-Slack-Signature", sig],
          ["X-Slack-Request-Timestamp", `${ts}.5`],
        ],
        status: 400,
        code: "malformed_header",
      },
      {
        name: "form body",
        headers: pairs(good),
        contentType: form,
        status: 415,
        code: "unsupported_content_type",
      },
      {
        name: "no content type",
        headers: pairs(good),
        contentType: "",
        status: 415,
        code: "unsupported_content_type",
      },
    ];
    const before = events();
    for (const c of cases) {
      const headers: HeaderList =
        c.contentType === ""
          ? c.headers
          : [["Content-Type", c.contentType ?? "application/json"], ...c.headers];
      const response = await raw(s.url, { path: "/slack/events", body: c.body ?? body, headers });
      assert.equal(response.status, c.status, `${c.name}: ${response.body}`);
      assert.equal(errorCode(response), c.code, c.name);
      assert.ok(!response.body.includes(defaultOld) && !response.body.includes(sig.slice(3)), c.name);
    }
    // Signed but malformed: verification passes, parsing refuses.
    const broken = '{"type":"event_callback",';
    const malformed = await post(s.url, "/slack/events", broken, pairs(signed(defaultOld, broken)));
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(malformed), "malformed_body");
    const big = JSON.stringify({ type: "event_callback", pad: "x".repeat(1_100_000) });
    const tooLarge = await post(s.url, "/slack/events", big, pairs(signed(defaultOld, big)));
    assert.equal(tooLarge.status, 413);
    assert.equal(errorCode(tooLarge), "body_too_large");
    assert.equal(events(), before);
    const ready = await fetch(`${s.url}/ready`);
    assert.equal(ready.status, 200);
  });

  it("answers ssl_check with an empty 200 without looking at anything else", async () => {
    const before = events();
    const response = await post(
      s.url,
      "/slack/commands",
      "ssl_check=1&token=x&command=%2Fzen&text=dlq",
      [],
      form,
    );
    assert.equal(response.status, 200);
    assert.equal(response.body, "");
    const onEvents = await post(s.url, "/slack/events", "ssl_check=1", [], form);
    assert.equal(onEvents.status, 200);
    assert.equal(events(), before);
  });
});

describe("POST /slack/commands and /slack/interactions", () => {
  let sink: WebhookSink;
  let s: Started;
  const handler = new RecordingHandler();
  before(async () => {
    sink = await WebhookSink.start({ fallback: { status: 400, body: "rejected: token=hunter2-not-real" } });
    s = await start(sink.url, { handlers: [handler] });
  });
  after(async () => {
    await s.service.stop({ graceMs: 200 });
    await sink.close();
  });

  async function command(text: string, team = "T0DEFAULT", secret = defaultNew) {
    const body = commandBody(text, team);
    const response = await post(s.url, "/slack/commands", body, pairs(signed(secret, body)));
    return {
      response,
      reply:
        response.status === 200
          ? (JSON.parse(response.body) as { response_type: string; text: string })
          : undefined,
    };
  }

  it("answers help, and unknown subcommands with help, ephemerally", async () => {
    const help = await command("help");
    assert.equal(help.reply?.response_type, "ephemeral");
    assert.match(help.reply?.text ?? "", /`\/zen status`/);
    const unknown = await command("frobnicate now");
    assert.match(unknown.reply?.text ?? "", /^Unknown subcommand `frobnicate`/);
    assert.match(unknown.reply?.text ?? "", /`\/zen dlq`/);
  });

  it("shows the user's tenant's integrations and breakers, not another tenant's", async () => {
    const acme = await command("status", "T0ACME", acmeSecret);
    assert.match(acme.reply?.text ?? "", /Status of tenant `acme`/);
    assert.match(acme.reply?.text ?? "", /destination `hook` \(webhook\)/);
    assert.match(acme.reply?.text ?? "", /`hook`: \*closed\*/);
    const other = await command("status");
    assert.match(other.reply?.text ?? "", /Status of tenant `default`/);
    assert.doesNotMatch(other.reply?.text ?? "", /hook/);
  });

  it("counts the tenant's DLQ and lists the last failures, redacted", async () => {
    const body = eventBody("Ev0DLQ1", "T0ACME");
    assert.equal((await post(s.url, "/slack/events", body, pairs(signed(acmeSecret, body)))).status, 200);
    await waitFor("the DLQ entry", async () => (await s.service.stores.queue.stats()).dlq === 1);
    const acme = await command("dlq", "T0ACME", acmeSecret);
    const text = acme.reply?.text ?? "";
    assert.match(text, /Dead-letter queue of tenant `acme`\*: 1 entries/);
    assert.match(text, /by destination: `hook` 1/);
    assert.match(text, /event `Ev0DLQ1`, validation_failed after 1 attempts/);
    assert.doesNotMatch(text, /hunter2/);
    const other = await command("dlq");
    assert.match(other.reply?.text ?? "", /tenant `default`\*: empty/);
  });

  it("refuses a replayed command and a command in the wrong content type", async () => {
    const body = commandBody("help");
    const headers = pairs(signed(defaultOld, body));
    assert.equal((await post(s.url, "/slack/commands", body, headers)).status, 200);
    const again = await post(s.url, "/slack/commands", body, headers);
    assert.equal(again.status, 409);
    assert.equal(errorCode(again), "replayed");
    const json = await post(s.url, "/slack/commands", body, headers, "application/json");
    assert.equal(json.status, 415);
    const noCommand = "team_id=T0DEFAULT&user_id=U1&text=help";
    const missing = await post(s.url, "/slack/commands", noCommand, pairs(signed(defaultOld, noCommand)));
    assert.equal(missing.status, 400);
    assert.equal(errorCode(missing), "malformed_body");
  });

  it("hands a block_actions click to the handler owning its prefix, with the team's tenant", async () => {
    const body = interactionBody(blockAction("test:approve", "T0ACME", "INC-42"));
    const response = await post(s.url, "/slack/interactions", body, pairs(signed(acmeSecret, body)));
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { response_type: "ephemeral", text: "clicked INC-42" });
    const call = handler.calls.at(-1);
    assert.equal(call?.tenant, "acme");
    assert.equal(call?.payload.user.id, "UA8RXUSPL");
    assert.equal(call?.payload.container?.message_ts, "1548261231.000200");
    const again = await post(s.url, "/slack/interactions", body, pairs(signed(acmeSecret, body)));
    assert.equal(again.status, 409);
    assert.equal(errorCode(again), "replayed");
  });

  it("acks clicks no handler owns and other payload types with an empty 200", async () => {
    const calls = handler.calls.length;
    for (const payload of [
      blockAction("someone_else:click"),
      { type: "view_submission", team: { id: "T0DEFAULT" }, user: { id: "U1" }, view: { id: "V1" } },
      { type: "shortcut", team: { id: "T0DEFAULT" }, user: { id: "U1" }, callback_id: "x" },
    ]) {
      const body = interactionBody(payload);
      const response = await post(s.url, "/slack/interactions", body, pairs(signed(defaultOld, body)));
      assert.equal(response.status, 200);
      assert.equal(response.body, "");
    }
    assert.equal(handler.calls.length, calls);
  });

  it("refuses malformed interaction payloads with malformed_body", async () => {
    const bodies = [
      "payload=%7Bnot-json",
      "nopayload=1",
      `payload=${encodeURIComponent("[1,2]")}`,
      interactionBody({ ...blockAction("test:x"), actions: [] }),
      interactionBody({ ...blockAction("test:x"), user: "U1" }),
      `${interactionBody(blockAction("test:x"))}&payload=again`,
    ];
    for (const body of bodies) {
      const response = await post(s.url, "/slack/interactions", body, pairs(signed(defaultOld, body)));
      assert.equal(response.status, 400, body);
      assert.equal(errorCode(response), "malformed_body", body);
    }
    const unsigned = interactionBody(blockAction("test:x"));
    const refused = await post(s.url, "/slack/interactions", unsigned, []);
    assert.equal(refused.status, 401);
  });
});

describe("Slack intake off", () => {
  it("answers 404 unknown_source when no signing secret is configured", async () => {
    const dataDir = makeDataDir();
    const config = loadConfig({
      env: { PORT: "0", HOST: "127.0.0.1", ZEN_DATA_DIR: dataDir, LOG_LEVEL: "silent" },
    });
    const service = await startService(config, { logger: silentLogger() });
    try {
      const body = eventBody("Ev0OFF");
      const response = await post(service.url, "/slack/events", body, pairs(signed(defaultOld, body)));
      assert.equal(response.status, 404);
      assert.equal(errorCode(response), "unknown_source");
    } finally {
      await service.stop({ graceMs: 200 });
    }
  });

  it("refuses HTTP requests for a Socket Mode-only tenant", async () => {
    const dataDir = makeDataDir();
    const config = testConfig(dataDir, { env: { SLACK_APP_TOKEN: "xapp-1-not-real" } });
    const service = await startService(config, { logger: silentLogger() });
    try {
      const body = eventBody("Ev0SOCK");
      const response = await post(service.url, "/slack/events", body, pairs(signed(defaultOld, body)));
      assert.equal(response.status, 401);
      assert.equal(errorCode(response), "signature_invalid");
    } finally {
      await service.stop({ graceMs: 200 });
    }
  });
});
