/**
 * Composition root: builds every part from the compiled Config and wires them together. No logic
 * lives here; each part is a parameter of the next. `startService` is what `zen serve` and
 * `zen worker` run, and what end-to-end tests start in-process.
 */
import type { FastifyInstance } from "fastify";
import { MemoryRateLimitStore } from "./adapters/memory/rate-limit-store.ts";
import { openSqliteStores } from "./adapters/sqlite/stores.ts";
import { openSqliteWorkerStores } from "./adapters/sqlite/worker/worker-stores.ts";
import type { Approvals } from "./approvals/approvals.ts";
import { startApprovals } from "./approvals/start-approvals.ts";
import { tenantSlackClients } from "./approvals/tenant-slack.ts";
import type { Config } from "./config/config.ts";
import { startupWarnings } from "./config/startup-warnings.ts";
import { breakerSnapshot, createCircuitBreakers, DeliveryGuards, deliveryBucket } from "./delivery/guards.ts";
import { DeliveryWorker } from "./delivery/worker.ts";
import { destinationFactory } from "./destinations/create-destination.ts";
import { DestinationRegistry } from "./destinations/registry.ts";
import { bucketCleanupPolicy } from "./domain/token-bucket.ts";
import { buildApp } from "./http/app.ts";
import { Intake } from "./intake/intake.ts";
import { IntegrationRegistry } from "./integrations/registry.ts";
import type { Logger } from "./observability/logger.ts";
import { Metrics } from "./observability/metrics.ts";
import { type Clock, systemClock } from "./ports/clock.ts";
import type { KeyStore } from "./ports/key-store.ts";
import type { Queue } from "./ports/queue.ts";
import type { TrailStore } from "./ports/trail.ts";
import { type Respond, ZenCommands } from "./slack/commands.ts";
import { BlockActionsDispatcher } from "./slack/interaction-dispatch.ts";
import type { BlockActionsHandler } from "./slack/interactions.ts";
import { createSlackResponder } from "./slack/responder.ts";
import { SlackSocketMode } from "./slack/socket-mode.ts";

export interface ServiceRoles {
  /** Serve `/webhooks/...` (false for `zen worker`). */
  readonly intake: boolean;
  /** Run delivery workers in this process. */
  readonly workers: boolean;
}

/** The stores of one store file, in-thread or on the store worker (`queue.sqliteWorker`). */
export interface ServiceStores {
  readonly queue: Queue;
  readonly keyStore: KeyStore;
  readonly trail: TrailStore;
  /** Commits pending writes and closes the file. */
  close(): Promise<void>;
}

export interface RunningService {
  readonly app: FastifyInstance;
  /** `http://host:port` actually bound (port 0 → the chosen port). */
  readonly url: string;
  readonly stores: ServiceStores;
  readonly metrics: Metrics;
  /** The `zen_approval:` block_actions handler; absent when no tenant has an approvals policy. */
  readonly approvals?: Approvals;
  /**
   * Graceful stop: refuse new requests, finish in-flight ones, release unfinished jobs, close the store.
   * `graceMs` (default {@link defaultShutdownGraceMs}) bounds both the wait for sends and for requests
   * still being received.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/** What the Slack source needs from outside the config. */
export interface SlackServiceDeps {
  /** Handlers of `block_actions` clicks, by `action_id` prefix (approvals, …). */
  readonly blockActionHandlers?: readonly BlockActionsHandler[];
  /** Posts late slash-command answers to `response_url` (SlackApi.respond). */
  readonly respond?: Respond;
}

/** How long shutdown waits for in-flight deliveries before releasing them to another worker. */
export const defaultShutdownGraceMs = 10_000;

/** Every this often: drop expired dedupe keys and nonces, old DLQ entries and trails. */
const housekeepingIntervalMs = 60_000;

export async function startService(
  config: Config,
  deps: { logger: Logger; clock?: Clock; roles?: ServiceRoles; slack?: SlackServiceDeps },
): Promise<RunningService> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const roles = deps.roles ?? { intake: true, workers: true };
  const metrics = new Metrics();

  const storeOptions = {
    dir: config.dataDir,
    synchronous: config.queue.sqliteSynchronous,
    commitWindowMs: config.intake.commitWindowMs,
    onCommit: (size: number) => metrics.commitBatchSize.observe(size),
    clock,
  };
  const stores: ServiceStores = config.queue.sqliteWorker
    ? await openSqliteWorkerStores({
        ...storeOptions,
        onCrash: (err) => logger.error({ err }, "the SQLite store worker stopped: the store is unavailable"),
      })
    : openSqliteStores(storeOptions);
  const { queue, keyStore, trail } = stores;
  const approvals = startApprovals({
    config,
    queue,
    metrics,
    logger,
    clock,
    slack: tenantSlackClients(config, clock),
  });

  const integrations = new IntegrationRegistry(config, { clock, logger });
  // Buckets are per process: one process needs no sharing, and a lost bucket costs one extra burst.
  const rateLimits = new MemoryRateLimitStore({ clock });
  const breakers = createCircuitBreakers(config, {
    clock,
    logger,
    metrics,
    onTransition: (tenant, destination, to) => integrations.recordBreaker(tenant, destination, to),
  });
  const guards = new DeliveryGuards({
    breakers,
    rateLimits,
    bucketFor: (tenant, destination) => deliveryBucket(config, tenant, destination),
  });
  const destinations = await DestinationRegistry.fromConfig(
    config.tenants,
    destinationFactory({
      maxRetryAfterMs: config.queue.maxRetryAfterMs,
      clock,
      egress: config.egress,
      keys: keyStore,
      redactionPolicyOf: (tenant) => config.tenants.get(tenant)?.redaction,
      routesOf: (tenant) => config.tenants.get(tenant)?.routes,
      onRedactions: metrics.recordRedactions,
      ...(approvals && { approvals: approvals.runtime }),
    }),
  );
  const worker = roles.workers
    ? new DeliveryWorker({
        queue,
        trail,
        destinations,
        metrics,
        logger,
        clock,
        policy: config.queue,
        guards,
        onAttempt: (job, outcome, facts, error) => {
          if (outcome === "released") return;
          integrations.recordDelivery(
            job.tenant,
            job.destination,
            outcome === "delivered",
            facts.durationMs,
            error,
          );
        },
      })
    : undefined;

  let shuttingDown = false;
  const intake = new Intake({
    config,
    queue,
    keys: keyStore,
    trail,
    rateLimits,
    metrics,
    logger,
    clock,
    integrations,
  });
  // Late `/zen` answers go to the command's response_url; tests may inject their own poster.
  const slackResponder = deps.slack?.respond ? undefined : createSlackResponder(config, clock);
  const respond = deps.slack?.respond ?? slackResponder?.respond;
  const slackCommands = new ZenCommands({
    queue,
    integrations,
    breakers: () => breakerSnapshot(config, breakers),
    logger,
    ...(respond && { respond }),
  });
  const slackInteractions = new BlockActionsDispatcher(
    [...(deps.slack?.blockActionHandlers ?? []), ...(approvals ? [approvals.approvals] : [])],
    logger,
  );
  const slackSocketMode = roles.intake
    ? new SlackSocketMode({
        config,
        intake,
        commands: slackCommands,
        interactions: slackInteractions,
        logger,
      })
    : undefined;
  const app = await buildApp({
    logger,
    bodyLimitBytes: config.intake.bodyLimitBytes,
    webhooks: roles.intake ? { intake, metrics } : undefined,
    ...(roles.intake && { servicenow: { config, keys: keyStore, rateLimits, breakers, clock } }),
    ...(roles.intake && { jira: { config, keys: keyStore, rateLimits, breakers, clock, intake, metrics } }),
    ...(roles.intake && {
      slack: { config, intake, metrics, logger, commands: slackCommands, interactions: slackInteractions },
    }),
    health: {
      queue,
      metrics,
      integrations,
      probe: { workersRunning: () => (worker ? worker.isRunning : true), shuttingDown: () => shuttingDown },
      breakers: () => breakerSnapshot(config, breakers),
    },
    admin: {
      adminToken: config.adminToken,
      queue,
      trail,
      integrations,
      metrics,
      logger,
      breakers: () => breakerSnapshot(config, breakers),
    },
    ...(approvals && { approvals: { ...approvals.routes, adminToken: config.adminToken } }),
  });

  const housekeeping = setInterval(() => {
    const now = clock.now();
    Promise.all([
      queue.prune({ dlqRetentionMs: config.queue.dlqRetentionMs }),
      keyStore.prune(),
      trail.prune(now - config.queue.dlqRetentionMs),
    ])
      .then(([pruned, keys, trails]) => {
        if (pruned.dedupeKeys + pruned.dlq + pruned.events + keys + trails > 0) {
          logger.info({ ...pruned, keys, trails }, "housekeeping pruned expired records");
        }
      })
      .catch((err: unknown) => logger.error({ err }, "housekeeping failed"));
  }, housekeepingIntervalMs);
  housekeeping.unref();
  const bucketCleanup = setInterval(() => {
    rateLimits
      .cleanup(bucketCleanupPolicy.idleMs)
      .then((dropped) => {
        if (dropped > 0) logger.debug({ dropped }, "idle full rate-limit buckets dropped");
      })
      .catch((err: unknown) => logger.error({ err }, "rate-limit bucket cleanup failed"));
  }, bucketCleanupPolicy.intervalMs);
  bucketCleanup.unref();

  integrations.start();
  worker?.start();
  approvals?.start();
  const address = await app.listen({ port: config.port, host: config.host });
  slackSocketMode?.start();
  logger.info(
    { url: address, dataDir: config.dataDir, tenants: config.tenants.size, roles },
    "zen-integrations started",
  );
  for (const warning of startupWarnings(config)) logger.warn(warning.fields, warning.message);
  if (config.tenants.size === 0) {
    logger.warn(
      "no tenants configured: set WEBHOOK_SECRET (for /webhooks/generic) or ZEN_CONFIG (a YAML file)",
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = (options?: { graceMs?: number }): Promise<void> => {
    stopping ??= (async () => {
      shuttingDown = true;
      clearInterval(housekeeping);
      clearInterval(bucketCleanup);
      logger.info("shutting down: intake closed, finishing in-flight deliveries");
      // The socket first: no new Slack envelopes, and those in hand are committed and acked.
      await slackSocketMode?.stop();
      const graceMs = options?.graceMs ?? defaultShutdownGraceMs;
      // Stop leasing now, not after the HTTP drain: sends already running get the grace period.
      const workerStopped = worker?.stop({ graceMs });
      // Fastify answers 503 to new requests and waits for in-flight ones (their commits included). A
      // request whose body never completes would hold that wait forever, so after the grace the
      // remaining connections are cut: none of them got a 2xx, so nothing acknowledged is lost.
      const cutStalled = setTimeout(() => app.server.closeAllConnections(), graceMs);
      await app.close();
      clearTimeout(cutStalled);
      const result = await workerStopped;
      await slackCommands.settle();
      await slackResponder?.close();
      await destinations.close();
      await approvals?.close();
      await stores.close();
      logger.info({ released: result?.released ?? 0 }, "shutdown complete");
    })();
    return stopping;
  };

  return { app, url: address, stores, metrics, ...(approvals && { approvals: approvals.approvals }), stop };
}
