import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeSlack } from "../../test/fakes/fake-slack.ts";
import type { TenantConfig } from "../config/config.ts";
import { loadConfig } from "../config/load-config.ts";
import { HttpError } from "../domain/errors.ts";
import { silentLogger } from "../observability/logger.ts";
import type { DlqEntry, DlqFilter, DlqPage } from "../ports/queue.ts";
import { type Respond, slashCommandFrom, ZenCommands } from "./commands.ts";

const tenant = loadConfig({ env: { SLACK_SIGNING_SECRET: "s-not-real" } }).tenants.get(
  "default",
) as TenantConfig;

function entry(i: number, overrides: Partial<DlqEntry> = {}): DlqEntry {
  return {
    id: `dlq-${i}`,
    tenant: "default",
    source: "slack",
    destination: i % 3 === 0 ? "jira" : "hook",
    eventId: `Ev${i}`,
    idempotencyKey: `k${i}`,
    reason: i % 2 === 0 ? "server_error" : "invalid_auth",
    attempts: 3,
    lastError: null,
    enqueuedAt: 1_700_000_000_000,
    failedAt: 1_700_000_000_000 - i * 1000,
    ...overrides,
  };
}

/** `listDlq` over `entries` (newest first), paged by index cursors; optionally held until released. */
function dlqQueue(entries: readonly DlqEntry[], gate?: Promise<void>) {
  const pages: { filter: DlqFilter; limit: number }[] = [];
  return {
    pages,
    async listDlq(filter: DlqFilter, page: { limit: number; cursor?: string }): Promise<DlqPage> {
      pages.push({ filter, limit: page.limit });
      if (gate) await gate;
      const start = page.cursor === undefined ? 0 : Number(page.cursor);
      const items = entries.filter((e) => e.tenant === filter.tenant).slice(start, start + page.limit);
      const end = start + items.length;
      return { items, next: end < entries.length ? String(end) : null };
    },
  };
}

function commands(queue: ReturnType<typeof dlqQueue>, respond?: Respond, replyDeadlineMs = 2_000) {
  return new ZenCommands({
    queue,
    integrations: { list: () => [] },
    breakers: () => [],
    logger: silentLogger(),
    replyDeadlineMs,
    ...(respond && { respond }),
  });
}

const dlq = (responseUrl?: string) => ({
  command: "/zen",
  text: "dlq",
  userId: "U1",
  ...(responseUrl !== undefined && { responseUrl }),
});

describe("/zen dlq", () => {
  it("counts every page and lists the newest failures", async () => {
    const entries = Array.from({ length: 1_203 }, (_, i) => entry(i));
    const queue = dlqQueue(entries);
    const reply = await commands(queue).handle(dlq(), tenant);
    assert.equal(reply.response_type, "ephemeral");
    assert.match(reply.text, /: 1203 entries/);
    assert.match(reply.text, /by destination: `hook` 802, `jira` 401/);
    assert.match(reply.text, /by reason: `server_error` 602, `invalid_auth` 601/);
    assert.match(reply.text, /\*Last 5 failures\*/);
    assert.match(reply.text, /event `Ev0`/);
    assert.doesNotMatch(reply.text, /event `Ev5`/);
    assert.deepEqual(
      queue.pages.map((p) => p.filter),
      [{ tenant: "default" }, { tenant: "default" }, { tenant: "default" }],
    );
  });

  it("redacts what the last errors quote, and escapes Slack's markup", async () => {
    const leaky = entry(0, {
      lastError: "HTTP 401: <token ghp_0123456789abcdefABCDEF0123456789abcd> for alice@example.com",
    });
    const reply = await commands(dlqQueue([leaky])).handle(dlq(), tenant);
    assert.doesNotMatch(reply.text, /ghp_0123|alice@example\.com/);
    assert.match(reply.text, /&lt;token /);
  });

  it("acks at the deadline and posts the answer to response_url when it is ready", async () => {
    const slack = await FakeSlack.start();
    try {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const respond: Respond = async (url, message) => {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: message.text, response_type: message.responseType }),
        });
        if (!response.ok) throw new Error(`response_url answered ${response.status}`);
      };
      const responseUrl = slack.responseUrl();
      const zen = commands(dlqQueue([entry(1)], gate), respond, 50);
      const started = Date.now();
      const reply = await zen.handle(dlq(responseUrl), tenant);
      assert.ok(Date.now() - started < 1_000);
      assert.match(reply.text, /^Working on it/);
      assert.deepEqual(slack.responses(responseUrl), []);
      release();
      await zen.settle();
      const posted = slack.responses(responseUrl) as { text: string; response_type: string }[];
      assert.equal(posted.length, 1);
      assert.equal(posted[0]?.response_type, "ephemeral");
      assert.match(posted[0]?.text ?? "", /: 1 entries/);
    } finally {
      await slack.close();
    }
  });

  it("says so when too slow and there is no response_url, and when the store fails", async () => {
    const stalled = commands(dlqQueue([], new Promise(() => {})), undefined, 20);
    assert.match((await stalled.handle(dlq(), tenant)).text, /took too long/);
    const failing = new ZenCommands({
      queue: { listDlq: async () => Promise.reject(new Error("SQLITE_BUSY")) },
      integrations: { list: () => [] },
      breakers: () => [],
      logger: silentLogger(),
    });
    const reply = await failing.handle(dlq(), tenant);
    assert.equal(reply.text, "Sorry, that command failed; the error was logged.");
  });
});

describe("/zen status", () => {
  it("lists only the tenant's integrations and breakers", async () => {
    const zen = new ZenCommands({
      queue: dlqQueue([]),
      integrations: {
        list: () => [
          view("default", "destination", "hook", "error", "HTTP 500 from hooks.example.com"),
          view("acme", "destination", "secret-hook", "active", null),
        ],
      },
      breakers: () => [
        {
          tenant: "default",
          destination: "hook",
          state: "open",
          consecutiveFailures: null,
          probesInFlight: null,
          openedAt: 1_700_000_000_000,
          retryAt: 1_700_000_060_000,
        },
      ],
      logger: silentLogger(),
    });
    const reply = await zen.handle({ command: "/zen", text: "  STATUS  ", userId: "U1" }, tenant);
    assert.match(reply.text, /destination `hook` \(webhook\): \*error\* \(last error: HTTP 500/);
    assert.match(reply.text, /`hook`: \*open\*, probes again at 2023-11-14T22:14:20.000Z/);
    assert.doesNotMatch(reply.text, /secret-hook/);
  });
});

describe("slashCommandFrom", () => {
  it("reads the fields and refuses missing or repeated ones", () => {
    assert.deepEqual(
      slashCommandFrom({ command: "/zen", user_id: "U1", text: "dlq", response_url: "https://x" }),
      {
        command: "/zen",
        text: "dlq",
        userId: "U1",
        responseUrl: "https://x",
      },
    );
    for (const bad of [
      { user_id: "U1" },
      { command: "/zen" },
      { command: ["/zen", "/zen"], user_id: "U1" },
    ]) {
      assert.throws(
        () => slashCommandFrom(bad),
        (err) => err instanceof HttpError && err.code === "malformed_body",
      );
    }
  });
});

function view(
  tenantId: string,
  kind: "source" | "destination",
  id: string,
  status: "active" | "error",
  lastError: string | null,
) {
  return {
    kind,
    tenant: tenantId,
    id,
    type: "webhook",
    status,
    lastError,
    lastErrorAt: null,
    counters: { errorRate: 0, uptimeSeconds: 1 },
  };
}
