/**
 * A thin typed client of ServiceNow's Table API (`/api/now/table/{table}`, providers.md §3): create,
 * read, update and find-by-correlation of records, with Basic auth and JSON, on one hardened undici
 * `Agent` per client (the limits of `serviceNowEgressPolicy`; the socket connector comes from the
 * egress guard). Records are returned as ServiceNow sends them: every value a string (or a
 * `{value, display_value, link}` object when display values or reference links are asked for).
 *
 * Every failure leaves as a typed delivery error (`servicenow-errors.ts`, `classifyNetworkError`);
 * callers decide what it means (the destination: retry or DLQ; the ticket API: an HTTP status).
 *
 * Security notes: the password and the Authorization header never appear in errors or logs. Redirects
 * are not followed (a 3xx is a permanent failure), so credentials are never replayed to another host.
 */
import { type Dispatcher, request } from "undici";
import type { ServiceNowProviderConfig } from "../../config/config.ts";
import { classifyNetworkError } from "../../domain/classify.ts";
import { PermanentError, RetryableError } from "../../domain/errors.ts";
import { type Clock, systemClock } from "../../ports/clock.ts";
import type { BodyFilter } from "../body-filter.ts";
import { zenUserAgent } from "../user-agent.ts";
import {
  agentOptions,
  type ConnectorFactory,
  type DispatcherFactory,
  defaultConnectorFactory,
  defaultDispatcherFactory,
  type WebhookEgressPolicy,
  webhookEgressPolicy,
} from "../webhook/egress-policy.ts";
import { readCappedBody } from "../webhook/read-capped-body.ts";
import { serviceNowFailure } from "./servicenow-errors.ts";

/** One record as the Table API returns it (`result`). */
export type ServiceNowRecord = Readonly<Record<string, unknown>>;

/** Field values we write: the Table API is string-typed. */
export type ServiceNowFields = Readonly<Record<string, string>>;

/**
 * The webhook limits, except that we read (and parse) the answer: up to 1 MiB of a success (one
 * incident is a few KiB; a description can be long) and 16 KiB of an error (the envelope is small;
 * a proxy's HTML page is cut). Wall clock: as webhooks, at most 30 s per attempt.
 */
export const serviceNowEgressPolicy: WebhookEgressPolicy = Object.freeze({
  ...webhookEgressPolicy,
  maxResponseBodyBytes: 1024 * 1024,
  errorSnippetBytes: 16 * 1024,
});

/** `sysparm_display_value`: raw values (default), display values only, or both per field. */
export type DisplayValue = "false" | "true" | "all";

export interface ServiceNowReadOptions {
  /** Default `false` (raw values, all strings). */
  readonly displayValue?: DisplayValue;
  /** `sysparm_fields`; default every field. */
  readonly fields?: readonly string[];
  /** `sysparm_exclude_reference_link`; default true (reference fields as plain sys_id strings). */
  readonly excludeReferenceLink?: boolean;
}

/** Options of the calls that send fields (create, update). */
export interface ServiceNowWriteOptions extends ServiceNowReadOptions {
  /** Sees the serialized request body last (redaction layer 2); what it returns is sent. */
  readonly filter?: BodyFilter;
}

export interface ServiceNowClientOptions {
  readonly connection: ServiceNowProviderConfig;
  /** Upper bound on ServiceNow's Retry-After (`Config.queue.maxRetryAfterMs`). */
  readonly maxRetryAfterMs: number;
  readonly clock?: Clock;
  /** Overrides of `serviceNowEgressPolicy` (tests shorten timeouts). */
  readonly egress?: Partial<WebhookEgressPolicy>;
  /** The egress-guarded connector (`createDestination` always passes one). Default: undici's. */
  readonly connectorFactory?: ConnectorFactory;
  readonly dispatcherFactory?: DispatcherFactory;
  /** Default `zen-integrations/<version>`. */
  readonly userAgent?: string;
}

const sysIdPattern = /^[0-9a-f]{32}$/;
const tablePattern = /^[A-Za-z0-9_]{1,80}$/;
/** ServiceNow's `correlation_id` column holds 100 characters. */
export const maxCorrelationIdLength = 100;

/** True for a ServiceNow record id: 32 lower-case hex characters. */
export function isSysId(value: string): boolean {
  return sysIdPattern.test(value);
}

/** A field's raw value from a record, whatever form it came in (`"2"`, `{value:"2"}`); "" if absent. */
export function fieldValue(record: ServiceNowRecord, name: string): string {
  const value = record[name];
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object") {
    const inner = (value as { value?: unknown }).value;
    if (typeof inner === "string") return inner;
  }
  return "";
}

interface Call {
  readonly method: "GET" | "POST" | "PATCH" | "PUT";
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body?: ServiceNowFields;
  readonly filter?: BodyFilter;
  /** The status that means success (201 for POST, else 200). */
  readonly expect: number;
}

export class ServiceNowClient {
  /** The effective limits. */
  readonly egress: WebhookEgressPolicy;
  private readonly base: URL;
  private readonly authorization: string;
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;
  private readonly userAgent: string;
  private readonly dispatcher: Dispatcher;
  private closing: Promise<void> | undefined;

  constructor(options: ServiceNowClientOptions) {
    const { connection } = options;
    const url = connection.instanceUrl.endsWith("/") ? connection.instanceUrl : `${connection.instanceUrl}/`;
    this.base = new URL(url);
    this.authorization = `Basic ${Buffer.from(`${connection.username}:${connection.password}`).toString("base64")}`;
    this.maxRetryAfterMs = options.maxRetryAfterMs;
    this.clock = options.clock ?? systemClock;
    this.userAgent = options.userAgent ?? zenUserAgent;
    this.egress = Object.freeze({ ...serviceNowEgressPolicy, ...options.egress });
    const connectorFactory = options.connectorFactory ?? defaultConnectorFactory;
    const dispatcherFactory = options.dispatcherFactory ?? defaultDispatcherFactory;
    this.dispatcher = dispatcherFactory(agentOptions(this.egress, connectorFactory));
  }

  /**
   * `POST /api/now/table/{table}` → 201: the inserted record (raw values, reference fields as sys_ids).
   * @throws the mapped failure (servicenow-errors.ts) or a network failure.
   */
  async create(
    table: string,
    fields: ServiceNowFields,
    signal: AbortSignal,
    options: ServiceNowWriteOptions = {},
  ): Promise<ServiceNowRecord> {
    const result = await this.call(
      {
        method: "POST",
        path: tablePath(table),
        query: readQuery(options),
        body: fields,
        ...(options.filter && { filter: options.filter }),
        expect: 201,
      },
      signal,
    );
    return asRecord(result);
  }

  /**
   * `GET /api/now/table/{table}/{sys_id}`. A missing record and one an ACL hides both answer 404
   * (`not_found`); ServiceNow does not tell them apart.
   */
  async get(
    table: string,
    sysId: string,
    signal: AbortSignal,
    options: ServiceNowReadOptions = {},
  ): Promise<ServiceNowRecord> {
    const result = await this.call(
      { method: "GET", path: recordPath(table, sysId), query: readQuery(options), expect: 200 },
      signal,
    );
    return asRecord(result);
  }

  /**
   * `PATCH` (default) or `PUT /api/now/table/{table}/{sys_id}`: both update only the given fields;
   * the answer is the whole record. Journal fields (`work_notes`, `comments`) append an entry.
   */
  async update(
    table: string,
    sysId: string,
    fields: ServiceNowFields,
    signal: AbortSignal,
    options: ServiceNowWriteOptions & { readonly method?: "PATCH" | "PUT" } = {},
  ): Promise<ServiceNowRecord> {
    const result = await this.call(
      {
        method: options.method ?? "PATCH",
        path: recordPath(table, sysId),
        query: readQuery(options),
        body: fields,
        ...(options.filter && { filter: options.filter }),
        expect: 200,
      },
      signal,
    );
    return asRecord(result);
  }

  /**
   * The newest record whose `correlation_id` is `correlationId`, in any state:
   * `sysparm_query=correlation_id=<id>^ORDERBYDESCsys_created_on&sysparm_limit=1`.
   * @throws PermanentError `validation_failed` when the id cannot be put in an encoded query safely
   *   (empty, over 100 characters, `^`, control characters).
   */
  async findByCorrelationId(
    table: string,
    correlationId: string,
    signal: AbortSignal,
    options: ServiceNowReadOptions = {},
  ): Promise<ServiceNowRecord | undefined> {
    if (
      correlationId === "" ||
      correlationId.length > maxCorrelationIdLength ||
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      /[\^\u0000-\u001f\u007f]/.test(correlationId)
    ) {
      throw new PermanentError(
        "validation_failed",
        `correlation id must be 1–${maxCorrelationIdLength} characters without "^" or control characters`,
      );
    }
    const query = readQuery(options);
    query.set("sysparm_query", `correlation_id=${correlationId}^ORDERBYDESCsys_created_on`);
    query.set("sysparm_limit", "1");
    query.set("sysparm_no_count", "true");
    const result = await this.call({ method: "GET", path: tablePath(table), query, expect: 200 }, signal);
    if (!Array.isArray(result)) throw unusable(200, "a query answered without a result list");
    const first: unknown = result[0];
    return first === undefined ? undefined : asRecord(first);
  }

  /** Closes the connection pool (idempotent); waits for requests still running on it. */
  close(): Promise<void> {
    this.closing ??= this.dispatcher.close();
    return this.closing;
  }

  /** One HTTP exchange; answers the envelope's `result`. */
  private async call(call: Call, signal: AbortSignal): Promise<unknown> {
    const url = new URL(call.path, this.base);
    url.search = call.query.toString();
    const headers: Record<string, string> = {
      accept: "application/json",
      authorization: this.authorization,
      "user-agent": this.userAgent,
    };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    let body: string | undefined;
    if (call.body !== undefined) {
      const json = JSON.stringify(call.body);
      body = call.filter ? call.filter(json) : json;
    }

    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        dispatcher: this.dispatcher,
        method: call.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal,
      });
    } catch (err) {
      throw classifyNetworkError(err);
    }

    const ok = response.statusCode === call.expect;
    const cap = ok ? this.egress.maxResponseBodyBytes : this.egress.errorSnippetBytes;
    let text: string;
    try {
      const read = await readCappedBody(response.body, cap, cap);
      if (ok && read.truncated) throw unusable(response.statusCode, `the answer exceeds ${cap} bytes`);
      text = read.snippet;
    } catch (err) {
      if (!ok) {
        // The status already says what happened; the envelope would only have added detail.
        throw serviceNowFailure(
          { status: response.statusCode, headers: response.headers, body: "" },
          this.clock.now(),
          this.maxRetryAfterMs,
        );
      }
      throw classifyNetworkError(err);
    }
    if (!ok) {
      throw serviceNowFailure(
        { status: response.statusCode, headers: response.headers, body: text },
        this.clock.now(),
        this.maxRetryAfterMs,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // A hibernating developer instance answers 200 with an HTML page.
      throw unusable(
        response.statusCode,
        "the answer is not JSON (a hibernating instance answers with HTML)",
      );
    }
    if (parsed === null || typeof parsed !== "object" || !("result" in parsed)) {
      throw unusable(response.statusCode, 'the answer has no "result"');
    }
    return (parsed as { result: unknown }).result;
  }
}

function tablePath(table: string): string {
  if (!tablePattern.test(table)) {
    throw new PermanentError("validation_failed", `not a ServiceNow table name: ${JSON.stringify(table)}`);
  }
  return `api/now/table/${table}`;
}

function recordPath(table: string, sysId: string): string {
  if (!isSysId(sysId)) {
    throw new PermanentError("validation_failed", "a sys_id is 32 lower-case hex characters");
  }
  return `${tablePath(table)}/${sysId}`;
}

function readQuery(options: ServiceNowReadOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (options.displayValue !== undefined && options.displayValue !== "false") {
    query.set("sysparm_display_value", options.displayValue);
  }
  if (options.excludeReferenceLink ?? true) query.set("sysparm_exclude_reference_link", "true");
  if (options.fields !== undefined && options.fields.length > 0)
    query.set("sysparm_fields", options.fields.join(","));
  return query;
}

function asRecord(result: unknown): ServiceNowRecord {
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    throw unusable(200, '"result" is not a record');
  }
  return result as ServiceNowRecord;
}

/** A 2xx we cannot use: retried (a proxy or a waking instance), never silently taken as success. */
function unusable(status: number, why: string): RetryableError {
  return new RetryableError("unknown", `ServiceNow answered HTTP ${status} but ${why}`, {
    statusCode: status,
  });
}
