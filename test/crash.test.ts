/**
 * The end-to-end durability promise: "a 2xx survives kill -9". We spawn the real server, push a few
 * thousand signed GitHub webhooks at it concurrently, SIGKILL it mid-stream, restart it on the same
 * data dir, and require that every request that got a 2xx is delivered to the sink at least once,
 * with one stable `webhook-id` per event however many times it arrives.
 *
 * Requests in flight at the kill get errors: they may be lost or delivered, both are correct. A job
 * leased by the killed process is leased again when its lease expires, so the wait after the restart
 * is bounded by `ZEN_LEASE_MS` (set to the smallest value the worker accepts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Pool } from "undici";
import { deliveryIdempotencyKey } from "../src/domain/idempotency.ts";
import { presetProfile } from "../src/intake/verify/presets.ts";
import { signRequest } from "../src/intake/verify/sign-request.ts";
import type { RecordedRequest } from "./fakes/webhook-sink.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import { type ChildService, startChildService } from "./support/child-service.ts";

const ghSecret = "crash-test-github-secret-not-real";
const sinkSecret = "whsec_Y3Jhc2gtdGVzdC1zaW5rLXNlY3JldA==";
const tenant = "acme";
const destination = "sink";
const path = `/webhooks/${tenant}/gh`;

/** Requests planned; the kill lands long before the end. */
const plannedRequests = 3_000;
/** Concurrent requests (one connection each). */
const concurrency = 64;
/** SIGKILL once this many 2xx answers arrived. */
const killAfterAccepted = 1_000;
/**
 * Smallest lease the worker accepts (30 s attempt deadline + 5 s margin): jobs the killed process had
 * leased come back after this long.
 */
const leaseMs = 35_000;
/** Bound on the wait for every acknowledged event after the restart: one lease plus slack. */
const redeliveryTimeoutMs = leaseMs + 25_000;

function configYaml(sinkUrl: string): string {
  return `tenants:
  - id: ${tenant}
    sources:
      - id: gh
        preset: github
        secrets: [env:GH_SECRET]
    destinations:
      - id: ${destination}
        type: webhook
        url: "${sinkUrl}"
        secret: env:SINK_SECRET
        timeoutMs: 10000
    routes:
      - from: [gh]
        to: [${destination}]
`;
}

interface SignedRequest {
  readonly id: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Pre-signed so the send loop does nothing but send. */
function signedRequests(count: number): SignedRequest[] {
  const profile = presetProfile("github");
  const nowMs = Date.now();
  const runId = nowMs.toString(36);
  return Array.from({ length: count }, (_, i) => {
    const id = `crash-${runId}-${i}`;
    const body = JSON.stringify({ action: "opened", number: i, repository: { full_name: "acme/api" } });
    return {
      id,
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        ...signRequest(profile, ghSecret, { body, nowMs, id }),
      },
    };
  });
}

interface SendOutcome {
  /** Event ids whose request got a 2xx "accepted" answer. */
  readonly accepted: Set<string>;
  /** Event ids whose request was started (answered or not). */
  readonly attempted: Set<string>;
  /** Non-2xx answers (any is a bug: the server was healthy until the kill). */
  readonly refused: string[];
  readonly errors: number;
}

/**
 * Sends `requests` over `concurrency` connections; calls `onAccepted` after each 2xx. Stops issuing new
 * requests once `stopped()` is true; requests in flight then end with errors, which are counted.
 */
async function sendAll(
  url: string,
  requests: readonly SignedRequest[],
  stopped: () => boolean,
  onAccepted: (count: number) => void,
): Promise<SendOutcome> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const outcome: SendOutcome = { accepted: new Set(), attempted: new Set(), refused: [], errors: 0 };
  let next = 0;
  let errors = 0;
  const loop = async () => {
    while (!stopped()) {
      const request = requests[next++];
      if (request === undefined) return;
      outcome.attempted.add(request.id);
      try {
        const response = await pool.request({
          path,
          method: "POST",
          headers: request.headers,
          body: request.body,
        });
        const text = await response.body.text();
        if (response.statusCode >= 200 && response.statusCode <= 299) {
          const answer = JSON.parse(text) as { status?: string; eventId?: string };
          if (answer.status === "accepted" && answer.eventId === request.id) {
            outcome.accepted.add(request.id);
            onAccepted(outcome.accepted.size);
          } else {
            outcome.refused.push(`${response.statusCode} ${text}`);
          }
        } else {
          outcome.refused.push(`${response.statusCode} ${text}`);
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  await pool.destroy();
  return { ...outcome, errors };
}

/** Event id of a delivery (the sink gets the canonical event as JSON). */
function deliveredId(request: RecordedRequest): string {
  return (JSON.parse(request.body) as { id: string }).id;
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe("kill -9 mid-stream", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "zen-crash-e2e-"));
  const children: ChildService[] = [];
  let sink: WebhookSink | undefined;
  after(async () => {
    await Promise.all(children.map((child) => child.kill("SIGKILL")));
    await sink?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("delivers every acknowledged webhook after a restart, duplicates with the same webhook-id", async (t) => {
    sink = await WebhookSink.start();
    const configPath = join(dataDir, "zen.yaml");
    writeFileSync(configPath, configYaml(sink.url));
    const childOptions = {
      dataDir,
      configPath,
      // `warn`: one log line per accepted request would only slow the child down.
      logLevel: "warn",
      env: {
        GH_SECRET: ghSecret,
        SINK_SECRET: sinkSecret,
        ZEN_EGRESS_ALLOW_PRIVATE: "true",
        // The default delivery rate limit (10/s per destination) would stretch the wait to minutes.
        RATE_LIMIT_CAPACITY: "1000000",
        RATE_LIMIT_REFILL_RATE: "1000000",
        ZEN_LEASE_MS: String(leaseMs),
        ZEN_POLL_INTERVAL_MS: "200",
      },
    };
    const requests = signedRequests(plannedRequests);

    const first = await startChildService(childOptions);
    children.push(first);
    let killed = false;
    const sent = await sendAll(
      first.url,
      requests,
      () => killed,
      (accepted) => {
        if (accepted >= killAfterAccepted && !killed) {
          killed = true;
          first.process.kill("SIGKILL");
        }
      },
    );
    const exit = await first.exited;
    assert.equal(exit.signal, "SIGKILL", `the server should die by SIGKILL, not ${JSON.stringify(exit)}`);
    assert.deepEqual(sent.refused.slice(0, 5), [], "the server refused requests before the kill");
    assert.ok(sent.accepted.size >= killAfterAccepted, `only ${sent.accepted.size} requests were accepted`);
    assert.ok(sent.attempted.size < plannedRequests, "the kill should land mid-stream");
    const deliveredBeforeRestart = sink.requests.length;

    const second = await startChildService(childOptions);
    children.push(second);
    const deliveredIds = new Set<string>();
    let seen = 0;
    const allDelivered = () => {
      for (; seen < (sink?.requests.length ?? 0); seen++) {
        const request = sink?.requests[seen];
        if (request) deliveredIds.add(deliveredId(request));
      }
      for (const id of sent.accepted) if (!deliveredIds.has(id)) return false;
      return true;
    };
    await waitUntil(allDelivered, redeliveryTimeoutMs);

    const missing = [...sent.accepted].filter((id) => !deliveredIds.has(id));
    assert.deepEqual(
      missing.slice(0, 10),
      [],
      `${missing.length} of ${sent.accepted.size} acknowledged events were never delivered ` +
        `(${deliveredBeforeRestart} deliveries before the kill, ${sink.requests.length} in all)`,
    );

    // Every copy of an event carries the same webhook-id: the delivery's idempotency key.
    const webhookIds = new Map<string, Set<string>>();
    for (const request of sink.requests) {
      const id = deliveredId(request);
      assert.ok(sent.attempted.has(id), `delivered ${id}, which was never sent`);
      const header = request.headers["webhook-id"];
      assert.equal(typeof header, "string", `delivery of ${id} has no webhook-id`);
      const ids = webhookIds.get(id) ?? new Set<string>();
      ids.add(String(header));
      webhookIds.set(id, ids);
    }
    for (const [id, ids] of webhookIds) {
      assert.deepEqual([...ids], [deliveryIdempotencyKey(tenant, destination, id)], `webhook-ids of ${id}`);
    }
    t.diagnostic(
      `sent ${sent.attempted.size}, accepted ${sent.accepted.size}, errors at the kill ${sent.errors}; ` +
        `deliveries ${sink.requests.length} (${deliveredBeforeRestart} before the restart) of ` +
        `${webhookIds.size} events, ${sink.requests.length - webhookIds.size} duplicates`,
    );

    const stop = await second.kill("SIGTERM");
    assert.deepEqual(stop, { code: 0, signal: null }, `graceful stop after recovery:\n${second.output()}`);
  });
});
