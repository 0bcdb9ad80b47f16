/**
 * Graceful shutdown. On SIGTERM the real server stops taking requests at once, lets deliveries in
 * flight finish, exits 0, and leaves the rest of the queue for the next start; `service.stop()` with a
 * short grace gives unfinished jobs back uncharged (attempts stay 0), and they are delivered after a
 * restart. A client that never finishes its request body cannot hold the stop past the grace.
 *
 * `/ready` does not answer 503 to a new caller during the drain: the listener closes first, so a new
 * connection is refused outright (Fastify answers 503 only on a keep-alive connection that was busy at
 * that moment). Both count as "refused" here.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Agent, request } from "undici";
import { presetProfile } from "../src/intake/verify/presets.ts";
import { signRequest } from "../src/intake/verify/sign-request.ts";
import { type RecordedRequest, WebhookSink } from "./fakes/webhook-sink.ts";
import { type ChildService, startChildService } from "./support/child-service.ts";
import { makeDataDir, startTestService, type TestService } from "./support/service.ts";

const ghSecret = "shutdown-test-github-secret-not-real";
const sinkSecret = "whsec_c2h1dGRvd24tdGVzdC1zaW5r";
const tenant = "acme";

function configYaml(sinkUrl: string): string {
  return `tenants:
  - id: ${tenant}
    sources:
      - id: gh
        preset: github
        secrets: [env:GH_SECRET]
    destinations:
      - id: sink
        type: webhook
        url: "${sinkUrl}"
        secret: env:SINK_SECRET
    routes:
      - from: [gh]
        to: [sink]
`;
}

const secretsEnv = {
  GH_SECRET: ghSecret,
  SINK_SECRET: sinkSecret,
  ZEN_EGRESS_ALLOW_PRIVATE: "true",
  // No delivery rate limit in the way of the timing this test relies on.
  RATE_LIMIT_CAPACITY: "1000000",
  RATE_LIMIT_REFILL_RATE: "1000000",
};

/** POSTs one signed GitHub webhook; resolves with the status and parsed answer. */
async function sendEvent(
  url: string,
  id: string,
  dispatcher?: Agent,
): Promise<{ status: number; answer: Record<string, unknown> }> {
  const body = JSON.stringify({ action: "opened", id });
  const headers = {
    "content-type": "application/json",
    "x-github-event": "issues",
    ...signRequest(presetProfile("github"), ghSecret, { body, nowMs: Date.now(), id }),
  };
  const response = await request(`${url}/webhooks/${tenant}/gh`, {
    method: "POST",
    headers,
    body,
    ...(dispatcher ? { dispatcher } : {}),
  });
  return { status: response.statusCode, answer: (await response.body.json()) as Record<string, unknown> };
}

async function acceptAll(url: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const { status, answer } = await sendEvent(url, id);
    assert.equal(status, 200, JSON.stringify(answer));
    assert.equal(answer.status, "accepted");
  }
}

function deliveryCounts(requests: readonly RecordedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const id = (JSON.parse(request.body) as { id: string }).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** A request on a brand-new connection: the status, or the error code when none came back. */
async function probe(send: (dispatcher: Agent) => Promise<number>): Promise<string> {
  const dispatcher = new Agent({ connections: 1 });
  try {
    return String(await send(dispatcher));
  } catch (err) {
    const { code, cause } = err as { code?: string; cause?: { code?: string } };
    return code ?? cause?.code ?? "network_error";
  } finally {
    await dispatcher.destroy();
  }
}

const refusedAnswers = ["503", "ECONNREFUSED", "ECONNRESET", "UND_ERR_SOCKET", "network_error"];

describe("graceful shutdown", () => {
  const dataDirs: string[] = [];
  const children: ChildService[] = [];
  const services: TestService[] = [];
  const sinks: WebhookSink[] = [];
  after(async () => {
    await Promise.all(children.map((child) => child.kill("SIGKILL")));
    await Promise.all(services.map((service) => service.close()));
    await Promise.all(sinks.map((sink) => sink.close()));
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it("SIGTERM: intake closes, in-flight deliveries finish, exit 0, the rest is delivered after restart", async (t) => {
    /** Each delivery takes this long, so several are in flight when the signal lands. */
    const sinkDelayMs = 1_500;
    const sink = await WebhookSink.start({ fallback: { status: 200, delayMs: sinkDelayMs } });
    sinks.push(sink);
    const dataDir = mkdtempSync(join(tmpdir(), "zen-shutdown-"));
    dataDirs.push(dataDir);
    const configPath = join(dataDir, "zen.yaml");
    writeFileSync(configPath, configYaml(sink.url));
    // Four sends at a time: most of the 20 events are still queued when the signal lands.
    const options = { dataDir, configPath, env: { ...secretsEnv, ZEN_CONCURRENCY: "4" } };
    const ids = Array.from({ length: 20 }, (_, i) => `term-${Date.now().toString(36)}-${i}`);

    const first = await startChildService(options);
    children.push(first);
    await acceptAll(first.url, ids);
    await sink.waitForRequests(1, 10_000);

    first.process.kill("SIGTERM");
    await first.waitForLog("shutting down: intake closed, finishing in-flight deliveries", 10_000);
    const lateIntake = await probe(
      async (dispatcher) => (await sendEvent(first.url, "too-late", dispatcher)).status,
    );
    const lateReady = await probe(async (dispatcher) => {
      const response = await request(`${first.url}/ready`, { dispatcher });
      await response.body.dump();
      return response.statusCode;
    });
    assert.ok(refusedAnswers.includes(lateIntake), `intake during the drain answered ${lateIntake}`);
    assert.ok(refusedAnswers.includes(lateReady), `/ready during the drain answered ${lateReady}`);

    const exit = await first.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, first.output());
    const stopped = await first.waitForLog("delivery worker stopped", 1_000);
    assert.ok(
      Number(stopped.inFlightAtStop) >= 1,
      `no delivery was in flight at the signal: ${first.output()}`,
    );
    const done = await first.waitForLog("shutdown complete", 1_000);
    assert.equal(done.released, 0, "a 1.5 s send fits the 10 s grace: nothing should be released");
    const deliveredBeforeRestart = sink.requests.length;
    t.diagnostic(
      `during the drain: intake ${lateIntake}, /ready ${lateReady}; in flight at the signal ` +
        `${stopped.inFlightAtStop}; delivered before the restart ${deliveredBeforeRestart} of ${ids.length}`,
    );
    assert.ok(deliveredBeforeRestart < ids.length, "the drain must not start new deliveries");

    sink.setFallback({ status: 200 });
    const second = await startChildService(options);
    children.push(second);
    await sink.waitForRequests(ids.length, 20_000);
    const counts = deliveryCounts(sink.requests);
    assert.deepEqual(
      ids.filter((id) => counts.get(id) !== 1),
      [],
      "every event is delivered exactly once: finished sends are not repeated after the restart",
    );
    assert.equal(counts.has("too-late"), false);
    assert.deepEqual(await second.kill("SIGTERM"), { code: 0, signal: null }, second.output());
  });

  it("stop() does not wait past the grace for a request whose body never arrives", async () => {
    const dataDir = makeDataDir();
    dataDirs.push(dataDir);
    const running = await startTestService({
      dataDir,
      yaml: configYaml("http://127.0.0.1:9/hook"),
      env: secretsEnv,
    });
    services.push(running);
    const { port } = new URL(running.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => undefined);
    await once(socket, "connect");
    // Headers promise 1000 bytes; only a few ever come (a stalled or hostile client).
    socket.write(
      `POST /webhooks/${tenant}/gh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const graceMs = 300;
    const started = Date.now();
    const outcome = await Promise.race([
      running.service.stop({ graceMs }).then(() => "stopped"),
      new Promise((resolve) => setTimeout(resolve, graceMs + 3_000)).then(() => "still waiting"),
    ]);
    const tookMs = Date.now() - started;
    // Frees a stop() that hung, so the test ends either way.
    socket.destroy();
    assert.equal(outcome, "stopped", `stop() with a ${graceMs} ms grace was ${outcome} after ${tookMs} ms`);
  });

  it("stop() releases leased jobs uncharged; a restart delivers them", async () => {
    const sink = await WebhookSink.start({ fallback: { hang: true } });
    sinks.push(sink);
    const dataDir = makeDataDir();
    dataDirs.push(dataDir);
    const yaml = configYaml(sink.url);
    const ids = ["held-1", "held-2", "held-3"];

    const first = await startTestService({ dataDir, yaml, env: secretsEnv });
    services.push(first);
    await acceptAll(first.url, ids);
    await sink.waitForRequests(ids.length);
    // The receiver never answers: the grace runs out and the three sends are aborted and released.
    await first.service.stop({ graceMs: 100 });

    // Intake only (no workers), so the jobs are inspected exactly as the stop left them.
    const inspect = await startTestService({
      dataDir,
      yaml,
      env: secretsEnv,
      roles: { intake: true, workers: false },
    });
    services.push(inspect);
    for (const id of ids) {
      const jobs = await inspect.service.stores.queue.jobsOfEvent(tenant, id);
      assert.equal(jobs.length, 1, `jobs of ${id}`);
      assert.equal(jobs[0]?.attempts, 0, `${id}: a released job is not charged an attempt`);
    }
    const stats = await inspect.service.stores.queue.stats();
    assert.deepEqual(
      { ready: stats.ready, leased: stats.leased, dlq: stats.dlq },
      { ready: ids.length, leased: 0, dlq: 0 },
    );
    await inspect.service.stop();

    sink.setFallback({ status: 200 });
    const second = await startTestService({ dataDir, yaml, env: secretsEnv });
    services.push(second);
    await sink.waitForRequests(ids.length * 2, 10_000);
    const counts = deliveryCounts(sink.requests);
    assert.deepEqual(Object.fromEntries(counts), { "held-1": 2, "held-2": 2, "held-3": 2 });
    const webhookIds = new Set(sink.requests.map((request) => `${request.headers["webhook-id"]}`));
    assert.equal(webhookIds.size, ids.length, "the retried send reuses the first send's webhook-id");
    // The job is completed once the 200 is recorded; wait for that write, then nothing is left.
    const deadline = Date.now() + 5_000;
    let stats2 = await second.service.stores.queue.stats();
    while (stats2.ready + stats2.leased + stats2.delayed > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stats2 = await second.service.stores.queue.stats();
    }
    assert.deepEqual(
      { ready: stats2.ready, leased: stats2.leased, delayed: stats2.delayed, dlq: stats2.dlq },
      { ready: 0, leased: 0, delayed: 0, dlq: 0 },
    );
  });
});
