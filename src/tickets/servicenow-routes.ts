/**
 * The ServiceNow ticket API (DESIGN.md §3): synchronous incident calls on a tenant's ServiceNow
 * connection, behind `Authorization: Bearer` (`ZEN_API_TOKEN`, or `ZEN_ADMIN_TOKEN`; with neither the
 * API answers 404, as if it did not exist).
 *
 * | method & path | ServiceNow call | answer |
 * |---|---|---|
 * | `POST /servicenow/ticket` | `POST /api/now/table/incident` | 201 `{"result":{…}}`, `Location` |
 * | `GET /servicenow/ticket/{sys_id}` | `GET …/incident/{sys_id}` | 200 `{"result":{…}}` |
 * | `PUT /servicenow/ticket/{sys_id}` | `PUT …/incident/{sys_id}` | 200 `{"result":{…}}` |
 * | `POST /servicenow/ticket/{sys_id}/close` | `PATCH …` state 6/7 + close code and notes | 200 `{"result":{…}}` |
 *
 * Bodies use ServiceNow's own field names and string values (`urgency: "2"`); the record comes back
 * as ServiceNow sends it. `tenant` (body, or `?tenant=` on GET; default `default`) picks the
 * connection (`providers.servicenow`; tenant `default` falls back to `SERVICENOW_*`).
 *
 * Guards: the connection goes through the egress guard like every destination, and each call takes a
 * token from the tenant's ServiceNow bucket (`delivery:<tenant>:servicenow`, shared with the
 * servicenow destinations), so the API cannot push ServiceNow past the limit deliveries respect.
 * `POST /servicenow/ticket` honours `Idempotency-Key` (idempotency-key.ts).
 *
 * Errors: our envelope. ServiceNow's failures: 404 → `not_found`; 429, 5xx, timeouts, network →
 * 503 `provider_unavailable` (with `Retry-After` when known); anything else it refused (400, 401,
 * 403) → 502 `provider_error` with ServiceNow's message (never a credential).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { maxShortDescriptionChars } from "../destinations/servicenow/render-incident.ts";
import {
  type DisplayValue,
  isSysId,
  maxCorrelationIdLength,
  ServiceNowClient,
  type ServiceNowFields,
  type ServiceNowReadOptions,
  type ServiceNowRecord,
  serviceNowEgressPolicy,
} from "../destinations/servicenow/servicenow-client.ts";
import { isDeliveryFailure } from "../domain/classify.ts";
import { HttpError, RetryAfterError, retryAfterHeader } from "../domain/errors.ts";
import { withIdempotencyKey } from "./idempotency-key.ts";
import {
  defaultTicketTenant,
  idempotencyKeyHeader,
  jsonObjectBody,
  ProviderApi,
  type TicketRoutesOptions,
  ticketApiAuthorizer,
  ticketApiOff,
} from "./provider-api.ts";

/** The routes' dependencies; the breaker key is `<tenant>/servicenow-api`. */
export type ServiceNowRoutesOptions = TicketRoutesOptions;

/** The table the API works on. */
const table = "incident";
/** `close_code` when a close request gives none (the destinations' default too). */
export const defaultCloseCode = "Resolved by caller";

/**
 * Incident fields a request may set (ServiceNow names; custom `u_*` columns are allowed too).
 * `priority` is not here: ServiceNow computes it from impact × urgency.
 */
export const writableIncidentFields: ReadonlySet<string> = new Set([
  "short_description",
  "description",
  "urgency",
  "impact",
  "state",
  "hold_reason",
  "caller_id",
  "opened_by",
  "assignment_group",
  "assigned_to",
  "category",
  "subcategory",
  "contact_type",
  "cmdb_ci",
  "business_service",
  "company",
  "location",
  "correlation_id",
  "correlation_display",
  "comments",
  "work_notes",
  "close_code",
  "close_notes",
]);
const customFieldPattern = /^u_[a-z0-9_]{1,78}$/;
const tenantPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const levels = ["1", "2", "3"];
const states = ["1", "2", "3", "6", "7", "8"];
const holdReasons = ["1", "3", "4", "5"];

/** A validated write: the tenant and ServiceNow fields. */
export interface TicketWrite {
  readonly tenant: string;
  readonly fields: ServiceNowFields;
}

function invalid(message: string): HttpError {
  return new HttpError("invalid_request", message);
}

function tenantOf(value: unknown): string {
  if (value === undefined) return defaultTicketTenant;
  if (typeof value !== "string" || !tenantPattern.test(value)) throw invalid("tenant must be a tenant id");
  return value;
}

/**
 * Checks a create/update body: known fields (or `u_*`), string values, ServiceNow's codes, and the
 * fields a state needs (close code and notes for 6/7, hold reason for 3).
 * @throws HttpError `invalid_request` naming the field.
 */
export function ticketWrite(body: Record<string, unknown>, mode: "create" | "update"): TicketWrite {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === "tenant") continue;
    if (name === "priority") {
      throw invalid("priority is computed by ServiceNow from impact and urgency; set those instead");
    }
    if (!writableIncidentFields.has(name) && !customFieldPattern.test(name)) {
      throw invalid(
        `unknown field ${JSON.stringify(name.slice(0, 80))}; use ServiceNow incident field names (${[...writableIncidentFields].join(", ")}) or custom u_* fields`,
      );
    }
    if (typeof value !== "string") {
      throw invalid(`${name} must be a string (ServiceNow values are strings, e.g. "2")`);
    }
    fields[name] = value;
  }
  const check = (name: string, allowed: readonly string[]) => {
    const value = fields[name];
    if (value !== undefined && !allowed.includes(value)) {
      throw invalid(`${name} must be one of ${allowed.map((v) => `"${v}"`).join(", ")}`);
    }
  };
  check("urgency", levels);
  check("impact", levels);
  check("state", states);
  check("hold_reason", holdReasons);

  const shortDescription = fields.short_description;
  if (mode === "create" && (shortDescription === undefined || shortDescription.trim() === "")) {
    throw invalid("short_description is required");
  }
  if (shortDescription !== undefined && Array.from(shortDescription).length > maxShortDescriptionChars) {
    throw invalid(`short_description is longer than ${maxShortDescriptionChars} characters`);
  }
  if (fields.correlation_id !== undefined && fields.correlation_id.length > maxCorrelationIdLength) {
    throw invalid(`correlation_id is longer than ${maxCorrelationIdLength} characters`);
  }
  if ((fields.state === "6" || fields.state === "7") && (!fields.close_code || !fields.close_notes)) {
    throw invalid(
      "state 6 (Resolved) and 7 (Closed) need close_code and close_notes; or use POST /servicenow/ticket/{sys_id}/close",
    );
  }
  if (fields.state === "3" && !fields.hold_reason) {
    throw invalid(
      'state 3 (On Hold) needs hold_reason ("1" Awaiting Caller, "3" Problem, "4" Vendor, "5" Change)',
    );
  }
  if (mode === "update" && Object.keys(fields).length === 0) throw invalid("nothing to update");
  return { tenant: tenantOf(body.tenant), fields };
}

/** Checks a close body: `close_notes` required, `close_code` optional, `state` "6" (default) or "7". */
export function ticketClose(body: Record<string, unknown>): TicketWrite {
  for (const name of Object.keys(body)) {
    if (!["tenant", "close_code", "close_notes", "state"].includes(name)) {
      throw invalid(
        `unknown field ${JSON.stringify(name.slice(0, 80))}; expected close_notes, close_code, state, tenant`,
      );
    }
  }
  const { close_code: closeCode, close_notes: closeNotes, state } = body;
  if (typeof closeNotes !== "string" || closeNotes.trim() === "") throw invalid("close_notes is required");
  if (closeCode !== undefined && (typeof closeCode !== "string" || closeCode.trim() === "")) {
    throw invalid('close_code must be a non-empty string, e.g. "Solution provided"');
  }
  if (state !== undefined && state !== "6" && state !== "7") {
    throw invalid('state must be "6" (Resolved, default) or "7" (Closed)');
  }
  return {
    tenant: tenantOf(body.tenant),
    fields: { state: state ?? "6", close_code: closeCode ?? defaultCloseCode, close_notes: closeNotes },
  };
}

/** `?sysparm_display_value`, `?sysparm_fields`, `?sysparm_exclude_reference_link` and `?tenant` of a GET. */
function readOptions(query: Record<string, unknown>): { tenant: string; options: ServiceNowReadOptions } {
  const allowed = ["tenant", "sysparm_display_value", "sysparm_fields", "sysparm_exclude_reference_link"];
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name))
      throw invalid(`unknown query parameter ${JSON.stringify(name.slice(0, 80))}`);
  }
  const display = query.sysparm_display_value;
  if (display !== undefined && display !== "false" && display !== "true" && display !== "all") {
    throw invalid("sysparm_display_value must be false, true or all");
  }
  const fields = query.sysparm_fields;
  if (fields !== undefined && (typeof fields !== "string" || !/^[a-z0-9_.]+(,[a-z0-9_.]+)*$/.test(fields))) {
    throw invalid("sysparm_fields must be a comma-separated list of field names");
  }
  const exclude = query.sysparm_exclude_reference_link;
  if (exclude !== undefined && exclude !== "true" && exclude !== "false") {
    throw invalid("sysparm_exclude_reference_link must be true or false");
  }
  return {
    tenant: tenantOf(query.tenant),
    options: {
      excludeReferenceLink: exclude === "true",
      ...(display !== undefined && { displayValue: display as DisplayValue }),
      ...(typeof fields === "string" && { fields: fields.split(",") }),
    },
  };
}

function sysIdParam(request: FastifyRequest): string {
  const { sysId } = request.params as { sysId: string };
  if (!isSysId(sysId)) throw invalid("sys_id must be 32 lower-case hex characters");
  return sysId;
}

/**
 * A ServiceNow failure as our HTTP error (see the file header). `recordCall`: the call named a record,
 * so ServiceNow's 404 means "no such incident" rather than a broken connection.
 */
export function providerHttpError(err: unknown, recordCall: boolean): unknown {
  // Anything else (our own HttpError, a bug) passes through unchanged.
  if (!isDeliveryFailure(err)) return err;
  const retryAfter = err instanceof RetryAfterError ? retryAfterHeader(err.retryAfterMs) : undefined;
  switch (err.reason) {
    case "not_found":
      return recordCall
        ? new HttpError("not_found", err.message, { cause: err })
        : new HttpError("provider_error", err.message, { cause: err });
    case "rate_limited":
    case "retry_after":
    case "server_error":
    case "timeout":
    case "network_error":
    case "unknown":
      return new HttpError("provider_unavailable", err.message, {
        cause: err,
        ...(retryAfter && { headers: retryAfter }),
      });
    default:
      return new HttpError("provider_error", err.message, { cause: err });
  }
}

export async function serviceNowRoutes(
  app: FastifyInstance,
  options: ServiceNowRoutesOptions,
): Promise<void> {
  const { config, keys, rateLimits, clock } = options;
  const authorize = ticketApiAuthorizer(config);
  if (!authorize) {
    app.all("/servicenow/*", async () => ticketApiOff());
    return;
  }
  const servicenow = new ProviderApi({
    config,
    provider: "servicenow",
    displayName: "ServiceNow",
    connectionHint: "providers.servicenow, or SERVICENOW_* for tenant default",
    connectionOf: (tenant) => tenant.providers.servicenow,
    createClient: (connection, connectorFactory) =>
      new ServiceNowClient({
        connection,
        maxRetryAfterMs: config.queue.maxRetryAfterMs,
        clock,
        connectorFactory,
      }),
    deadlineMs: serviceNowEgressPolicy.attemptDeadlineMs,
    ...(rateLimits && { rateLimits }),
    ...(options.breakers && { breakers: options.breakers }),
    ...(options.connectorFactory && { connectorFactory: options.connectorFactory }),
  });
  /** Runs one ServiceNow call for the tenant, errors mapped (`recordCall`: see providerHttpError). */
  const call = <T>(
    tenantId: string,
    recordCall: boolean,
    fn: (client: ServiceNowClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> => servicenow.call(tenantId, fn, (err) => providerHttpError(err, recordCall));

  const answer = (reply: FastifyReply, status: number, record: ServiceNowRecord): FastifyReply =>
    reply.code(status).send({ result: record });

  app.addHook("onClose", () => servicenow.close());

  await app.register(async (api) => {
    api.addHook("onRequest", async (request) => authorize(request.headers.authorization));

    api.post("/servicenow/ticket", async (request, reply) => {
      const { object, text } = jsonObjectBody(request);
      const write = ticketWrite(object, "create");
      const key = idempotencyKeyHeader(request);
      const result = await withIdempotencyKey(
        keys,
        `servicenow-ticket:${write.tenant}`,
        key,
        text,
        async () => {
          const record = await call(write.tenant, false, (client, signal) =>
            client.create(table, write.fields, signal, { excludeReferenceLink: false }),
          );
          return { status: 201, body: { result: record } };
        },
      );
      const sysId = (result.body as { result?: { sys_id?: unknown } }).result?.sys_id;
      if (typeof sysId === "string") void reply.header("location", `/servicenow/ticket/${sysId}`);
      if (result.replayed) void reply.header("idempotent-replayed", "true");
      return reply.code(result.status).send(result.body);
    });

    api.get("/servicenow/ticket/:sysId", async (request, reply) => {
      const sysId = sysIdParam(request);
      const { tenant, options: read } = readOptions(request.query as Record<string, unknown>);
      const record = await call(tenant, true, (client, signal) => client.get(table, sysId, signal, read));
      return answer(reply, 200, record);
    });

    api.put("/servicenow/ticket/:sysId", async (request, reply) => {
      const sysId = sysIdParam(request);
      const write = ticketWrite(jsonObjectBody(request).object, "update");
      const record = await call(write.tenant, true, (client, signal) =>
        client.update(table, sysId, write.fields, signal, { method: "PUT", excludeReferenceLink: false }),
      );
      return answer(reply, 200, record);
    });

    api.post("/servicenow/ticket/:sysId/close", async (request, reply) => {
      const sysId = sysIdParam(request);
      const close = ticketClose(jsonObjectBody(request).object);
      const record = await call(close.tenant, true, (client, signal) =>
        client.update(table, sysId, close.fields, signal, { excludeReferenceLink: false }),
      );
      return answer(reply, 200, record);
    });
  });
}
