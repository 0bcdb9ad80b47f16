/**
 * Liveness, readiness and metrics. `/health` says the process answers; `/ready` says it can take
 * traffic: the store answers, workers run, and we are not shutting down (503 otherwise, with detail
 * per component so an operator sees which part is down).
 */
import type { FastifyInstance } from "fastify";
import type { IntegrationRegistry } from "../integrations/registry.ts";
import type { Queue } from "../ports/queue.ts";
import type { Metrics } from "./metrics.ts";

export interface ReadinessProbe {
  /** Workers are running (false before start and after stop). */
  workersRunning(): boolean;
  /** SIGTERM received: stop taking new traffic. */
  shuttingDown(): boolean;
}

export interface HealthRoutesOptions {
  /**
   * Breaker state per destination, as of now: shown in /ready, never a reason to be unready (the
   * destination is). Also called on each `/metrics` scrape so `zen_circuit_state` is current.
   */
  readonly breakers?: () => readonly { tenant: string; destination: string; state: string }[];
  readonly queue: Queue;
  readonly metrics: Metrics;
  readonly integrations: IntegrationRegistry;
  readonly probe: ReadinessProbe;
}

export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  const { queue, metrics, integrations, probe } = options;

  app.get("/health", async () => ({ status: "ok" }));

  app.get("/ready", async (_request, reply) => {
    const storeUp = await queue.ping().catch(() => false);
    const workersUp = probe.workersRunning();
    const shuttingDown = probe.shuttingDown();
    const ready = storeUp && workersUp && !shuttingDown;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? "ready" : "not_ready",
      components: {
        store: { status: storeUp ? "up" : "down" },
        workers: { status: workersUp ? "up" : "down" },
        intake: { status: shuttingDown ? "draining" : "up" },
        integrations: integrations.summary(),
        breakers: breakerSummary(options.breakers?.() ?? []),
      },
    });
  });

  app.get("/metrics", async (_request, reply) => {
    // Queue gauges are read at scrape time: they are state, not events.
    const stats = await queue.stats().catch(() => undefined);
    // So is breaker state. `zen_circuit_state` is written on transitions, and open → half-open happens
    // when something asks: without deliveries due, an elapsed open period would read "open" forever.
    // Taking the snapshot settles every breaker as of now (the same view /ready and /admin give).
    options.breakers?.();
    if (stats) {
      metrics.queueDepth.set({ state: "ready" }, stats.ready);
      metrics.queueDepth.set({ state: "delayed" }, stats.delayed);
      metrics.queueDepth.set({ state: "leased" }, stats.leased);
      metrics.dlqSize.set(stats.dlq);
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

function breakerSummary(rows: readonly { tenant: string; destination: string; state: string }[]) {
  const notClosed = rows.filter((row) => row.state !== "closed");
  return {
    open: notClosed.filter((row) => row.state === "open").length,
    halfOpen: notClosed.filter((row) => row.state === "half_open").length,
    destinations: notClosed.map((row) => ({
      tenant: row.tenant,
      destination: row.destination,
      state: row.state,
    })),
  };
}
