/**
 * The operations API under `/admin` (DESIGN.md §3), behind `Authorization: Bearer $ZEN_ADMIN_TOKEN`.
 * Without a configured token the whole API answers 404, as if it did not exist. The token is
 * compared in constant time and never logged.
 */
import type { FastifyInstance } from "fastify";
import type { BreakerSnapshot } from "../delivery/circuit-breakers.ts";
import { HttpError } from "../domain/errors.ts";
import { bearerChecker } from "../http/bearer-auth.ts";
import type { IntegrationRegistry } from "../integrations/registry.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { DlqFilter, Queue } from "../ports/queue.ts";
import type { TrailStore } from "../ports/trail.ts";
import { traceEvent } from "./event-trace.ts";

export interface AdminRoutesOptions {
  readonly adminToken: string | undefined;
  readonly queue: Queue;
  readonly trail: TrailStore;
  readonly integrations: IntegrationRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Breaker state per destination. */
  readonly breakers?: () => readonly BreakerSnapshot[];
}

const maxPageSize = 500;
const defaultPageSize = 50;

function str(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "" || value.length > 200) {
    throw new HttpError("invalid_request", `${name} must be a non-empty string`);
  }
  return value;
}

/** Filters from a query string or a JSON body; unknown keys are refused so typos do not widen a purge. */
function dlqFilter(input: unknown, allowed: readonly string[]): DlqFilter {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input))
    throw new HttpError("invalid_request", "expected a JSON object");
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) throw new HttpError("invalid_request", `unknown filter "${key}"`);
  }
  const filter: { -readonly [K in keyof DlqFilter]: DlqFilter[K] } = {};
  const tenant = str(record.tenant, "tenant");
  const destination = str(record.destination, "destination");
  const source = str(record.source, "source");
  const reason = str(record.reason, "reason");
  if (tenant) filter.tenant = tenant;
  if (destination) filter.destination = destination;
  if (source) filter.source = source;
  if (reason) filter.reason = reason;
  return filter;
}

const filterKeys = ["tenant", "destination", "source", "reason"] as const;

export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const { adminToken, queue, trail, integrations, metrics, logger } = options;
  if (!adminToken) {
    app.all("/admin/*", async () => {
      throw new HttpError("not_found", "the admin API is off: set ZEN_ADMIN_TOKEN to enable it");
    });
    return;
  }
  const authorize = bearerChecker([adminToken]);

  await app.register(async (admin) => {
    admin.addHook("onRequest", async (request) => authorize(request.headers.authorization));

    admin.get("/admin/dlq", async (request) => {
      const query = request.query as Record<string, unknown>;
      const filter = dlqFilter(
        Object.fromEntries(Object.entries(query).filter(([k]) => k !== "limit" && k !== "cursor")),
        filterKeys,
      );
      const limitText = str(query.limit, "limit");
      const limit = limitText === undefined ? defaultPageSize : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
        throw new HttpError("invalid_request", `limit must be an integer from 1 to ${maxPageSize}`);
      }
      const cursor = str(query.cursor, "cursor");
      const page = await queue.listDlq(filter, cursor === undefined ? { limit } : { limit, cursor });
      return {
        items: page.items.map((entry) => ({
          id: entry.id,
          tenant: entry.tenant,
          source: entry.source,
          destination: entry.destination,
          eventId: entry.eventId,
          reason: entry.reason,
          attempts: entry.attempts,
          lastError: entry.lastError,
          failedAt: new Date(entry.failedAt).toISOString(),
        })),
        next: page.next,
      };
    });

    admin.get<{ Params: { id: string } }>("/admin/dlq/:id", async (request) => {
      const entry = await queue.getDlq(request.params.id);
      if (!entry) throw new HttpError("not_found", "no such DLQ entry");
      return {
        ...entry,
        enqueuedAt: new Date(entry.enqueuedAt).toISOString(),
        failedAt: new Date(entry.failedAt).toISOString(),
      };
    });

    const replayed = (n: number, filter: DlqFilter | { id: string }) => {
      if (n > 0)
        metrics.replayed.inc({ tenant: "tenant" in filter && filter.tenant ? filter.tenant : "*" }, n);
      logger.info({ filter, replayed: n }, "dlq replayed");
      return { replayed: n };
    };

    admin.post<{ Params: { id: string } }>("/admin/dlq/:id/replay", async (request) => {
      const entry = await queue.getDlq(request.params.id);
      if (!entry) throw new HttpError("not_found", "no such DLQ entry");
      const n = await queue.replayDlq({ id: request.params.id });
      if (n > 0) metrics.replayed.inc({ tenant: entry.tenant }, n);
      logger.info(
        { tenant: entry.tenant, destination: entry.destination, eventId: entry.eventId },
        "dlq replayed",
      );
      return { replayed: n };
    });

    admin.post("/admin/dlq/replay", async (request) => {
      const filter = bulkFilter(request.body, "replay");
      return replayed(await queue.replayDlq({ filter }), filter);
    });

    admin.delete<{ Params: { id: string } }>("/admin/dlq/:id", async (request) => {
      const n = await queue.purgeDlq({ id: request.params.id });
      if (n === 0) throw new HttpError("not_found", "no such DLQ entry");
      logger.info({ id: request.params.id }, "dlq purged");
      return { purged: n };
    });

    admin.post("/admin/dlq/purge", async (request) => {
      const filter = bulkFilter(request.body, "purge");
      const n = await queue.purgeDlq({ filter });
      logger.info({ filter, purged: n }, "dlq purged");
      return { purged: n };
    });

    admin.get("/admin/queue", async () => queue.stats());

    admin.get("/admin/integrations", async () => ({ items: integrations.list() }));

    admin.get("/admin/breakers", async () => ({
      items: (options.breakers?.() ?? []).map((row) => ({
        ...row,
        openedAt: row.openedAt === null ? null : new Date(row.openedAt).toISOString(),
        retryAt: row.retryAt === null ? null : new Date(row.retryAt).toISOString(),
      })),
    }));

    admin.get<{ Params: { tenant: string; eventId: string } }>(
      "/admin/events/:tenant/:eventId",
      async (request) => {
        const trace = await traceEvent(queue, trail, request.params.tenant, request.params.eventId);
        if (!trace) throw new HttpError("not_found", "no such event (or its trail has expired)");
        return trace;
      },
    );
  });
}

/**
 * The filter of a bulk replay or purge. An empty filter would act on the whole DLQ: the caller must
 * say so with `{"all": true}` (a mistyped or forgotten filter must not replay or delete everything).
 */
function bulkFilter(body: unknown, verb: "replay" | "purge"): DlqFilter {
  const parsed = jsonBody(body) ?? {};
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HttpError("invalid_request", "expected a JSON object");
  }
  const { all, ...rest } = parsed as Record<string, unknown>;
  const filter = dlqFilter(rest, filterKeys);
  if (all !== undefined && typeof all !== "boolean")
    throw new HttpError("invalid_request", '"all" must be true or false');
  if (Object.keys(filter).length === 0 && all !== true) {
    throw new HttpError(
      "invalid_request",
      `give at least one filter, or {"all": true} to ${verb} the whole DLQ`,
    );
  }
  return filter;
}

/** Admin bodies arrive raw like everything else (see http/app.ts); parse them here. */
function jsonBody(body: unknown): unknown {
  if (body === undefined) return undefined;
  if (!Buffer.isBuffer(body)) return body;
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError("malformed_body", "body is not valid JSON");
  }
}
