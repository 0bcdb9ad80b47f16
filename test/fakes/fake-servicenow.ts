/**
 * A fake ServiceNow instance for tests: a real `node:http` server on 127.0.0.1, port 0, speaking the
 * Table API as documented in `shared/reference/providers.md` §3 (checklist §3.7):
 *
 * - Basic auth; a wrong or missing one answers 401 with the error envelope.
 * - `POST /api/now/table/incident` → 201, `Location` header, every field a string, a 32-hex `sys_id`,
 *   an `INC%07d` number, `priority` computed from the impact × urgency matrix (read-only).
 * - `GET …/incident/{sys_id}` (404 envelope when missing or hidden by an ACL), `GET …/incident` with
 *   `sysparm_query` (`field=value`, `!=`, `IN`, `NOT IN`, `LIKE`, `STARTSWITH`, `ISEMPTY`,
 *   `ISNOTEMPTY`, `^`, `ORDERBY…`, `ORDERBYDESC…`; unknown parts are ignored, as on a real instance),
 *   `sysparm_limit`, `sysparm_offset`, `sysparm_fields`, `sysparm_display_value` (false/true/all),
 *   `sysparm_exclude_reference_link`, `X-Total-Count`.
 * - `PATCH`/`PUT` return the full record; `DELETE` answers 204.
 * - `close_code` + `close_notes` enforced when `state` becomes 6 or 7, `hold_reason` when it becomes 3:
 *   answered 403 (data policy, the default), 400, or silently ignored (`closeRule`).
 * - Journal fields (`work_notes`, `comments`) are write-only: kept in `journal`, returned as "".
 * - Modes: ACL denials (insert/write/read), scripted answers (`respondNext`: 429 with `Retry-After` and
 *   `X-RateLimit-*` via `rateLimitNext`, 5xx via `failNext`, any envelope), response delays.
 * - Inspection: every request (`requests`), call counters (`calls`), stored records (`incidents`,
 *   `record`), journal entries per record.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type CallKind = "create" | "get" | "query" | "update" | "delete";

export interface FakeRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the fake took the request to be (undefined: refused before routing, e.g. 401). */
  readonly kind: CallKind | undefined;
  /** Real ms since epoch. */
  readonly receivedAt: number;
}

/** A scripted answer for the next request (any kind, or only `kind`). */
export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Raw body; default the error envelope built from `message`/`detail`. */
  readonly body?: string;
  readonly message?: string;
  readonly detail?: string;
  /** Only consume this answer for requests of this kind (others pass through). */
  readonly kind?: CallKind;
}

export interface JournalEntry {
  readonly field: "work_notes" | "comments";
  readonly value: string;
  readonly at: string;
}

/** What the fake does when a state change lacks the fields a data policy requires. */
export type CloseRule = "forbid" | "reject" | "ignore";

export interface FakeServiceNowOptions {
  readonly username?: string;
  readonly password?: string;
  /** Default `forbid` (403, as a data policy answers); `reject` = 400; `ignore` = drop the state change. */
  readonly closeRule?: CloseRule;
}

interface StoredRecord {
  readonly fields: Record<string, string>;
  /** Insertion order: breaks `sys_created_on` ties (the column has one-second resolution). */
  readonly seq: number;
  readonly journal: JournalEntry[];
}

const tablePrefix = "/api/now/table/";
/** The sys_user sys_id the fake pretends the API user has (`opened_by`, `resolved_by`, …). */
const apiUserSysId = "6816f79cc0a8016401c5a33be04be441";
const table = "incident";

/** Reference columns: `{link, value}` objects unless `sysparm_exclude_reference_link=true`. */
const referenceFields: ReadonlySet<string> = new Set([
  "caller_id",
  "assignment_group",
  "assigned_to",
  "opened_by",
  "resolved_by",
  "closed_by",
  "cmdb_ci",
  "business_service",
  "company",
  "location",
]);
const referenceTables: Readonly<Record<string, string>> = {
  assignment_group: "sys_user_group",
  cmdb_ci: "cmdb_ci",
  business_service: "cmdb_ci_service",
  company: "core_company",
  location: "cmn_location",
};

/** Writable incident columns (others are ignored on write, as a real instance ignores unknown fields). */
const writableFields: ReadonlySet<string> = new Set([
  "short_description",
  "description",
  "urgency",
  "impact",
  "state",
  "hold_reason",
  "category",
  "subcategory",
  "contact_type",
  "close_code",
  "close_notes",
  "correlation_id",
  "correlation_display",
  ...referenceFields,
]);
const journalFields: ReadonlySet<string> = new Set(["work_notes", "comments"]);

const stateLabels: Readonly<Record<string, string>> = {
  "1": "New",
  "2": "In Progress",
  "3": "On Hold",
  "6": "Resolved",
  "7": "Closed",
  "8": "Canceled",
};
const levelLabels: Readonly<Record<string, string>> = { "1": "1 - High", "2": "2 - Medium", "3": "3 - Low" };
const priorityLabels: Readonly<Record<string, string>> = {
  "1": "1 - Critical",
  "2": "2 - High",
  "3": "3 - Moderate",
  "4": "4 - Low",
  "5": "5 - Planning",
};
const choiceLabels: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  state: stateLabels,
  incident_state: stateLabels,
  urgency: levelLabels,
  impact: levelLabels,
  priority: priorityLabels,
};

/** The default priority lookup (providers.md §3.4): impact × urgency. */
export function priorityOf(impact: string, urgency: string): string {
  const i = Number(impact);
  const u = Number(urgency);
  if (![1, 2, 3].includes(i) || ![1, 2, 3].includes(u)) return "5";
  return String(i + u - 1);
}

function envelope(message: string, detail: string | null): string {
  return JSON.stringify({ error: { message, detail }, status: "failure" });
}

/** One request as the router sees it. */
interface Incoming {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly kind: CallKind | undefined;
  /** The path is under `/api/now/table/`. */
  readonly isTablePath: boolean;
  readonly tableName: string | undefined;
  readonly sysId: string | undefined;
}

/** One answer of the fake: status, body, extra headers. */
interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

function answer(status: number, body: string, headers?: Readonly<Record<string, string>>): Answer {
  return { status, body, ...(headers && { headers }) };
}

const notFound = () =>
  envelope("No Record found", "Record doesn't exist or ACL restricts the record retrieval");

/** `YYYY-MM-DD HH:mm:ss` in UTC, ServiceNow's raw date-time format. */
function glideDateTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

type Term =
  | { readonly kind: "order"; readonly field: string; readonly desc: boolean }
  | { readonly kind: "filter"; readonly test: (record: Readonly<Record<string, string>>) => boolean };

const operators = ["NOT IN", "ISNOTEMPTY", "ISEMPTY", "STARTSWITH", "ENDSWITH", "LIKE", "!=", "IN", "="];

/** One `^`-separated part of an encoded query; undefined when it cannot be parsed (then ignored). */
function parseTerm(part: string): Term | undefined {
  if (part.startsWith("ORDERBYDESC")) return { kind: "order", field: part.slice(11), desc: true };
  if (part.startsWith("ORDERBY")) return { kind: "order", field: part.slice(7), desc: false };
  for (const op of operators) {
    const at = part.indexOf(op);
    if (at <= 0) continue;
    const field = part.slice(0, at);
    if (!/^[a-z_][a-z0-9_.]*$/.test(field)) continue;
    const value = part.slice(at + op.length);
    const get = (r: Readonly<Record<string, string>>) => r[field] ?? "";
    switch (op) {
      case "=":
        return { kind: "filter", test: (r) => get(r) === value };
      case "!=":
        return { kind: "filter", test: (r) => get(r) !== value };
      case "IN":
        return { kind: "filter", test: (r) => value.split(",").includes(get(r)) };
      case "NOT IN":
        return { kind: "filter", test: (r) => !value.split(",").includes(get(r)) };
      case "LIKE":
        return { kind: "filter", test: (r) => get(r).includes(value) };
      case "STARTSWITH":
        return { kind: "filter", test: (r) => get(r).startsWith(value) };
      case "ENDSWITH":
        return { kind: "filter", test: (r) => get(r).endsWith(value) };
      case "ISEMPTY":
        return value === "" ? { kind: "filter", test: (r) => get(r) === "" } : undefined;
      case "ISNOTEMPTY":
        return value === "" ? { kind: "filter", test: (r) => get(r) !== "" } : undefined;
      default:
        return undefined;
    }
  }
  return undefined;
}

export class FakeServiceNow {
  readonly requests: FakeRequest[] = [];
  readonly calls: Record<CallKind, number> = { create: 0, get: 0, query: 0, update: 0, delete: 0 };
  /** Encoded-query parts the fake could not parse and ignored (a real instance ignores them too). */
  readonly ignoredQueryParts: string[] = [];
  /** ACL denials: `insert`/`write` answer 403, `read` hides records (404 / empty lists). */
  readonly acl = { insert: false, write: false, read: false };
  closeRule: CloseRule;
  /** Real ms every answer waits (widens race windows in concurrency tests). */
  delayMs = 0;
  /** Real ms query answers additionally wait. */
  queryDelayMs = 0;
  /** sys_id → display value of reference fields (default: the sys_id itself). */
  readonly displayNames = new Map<string, string>();
  private readonly records = new Map<string, StoredRecord>();
  private readonly script: ScriptedResponse[] = [];
  private readonly sockets = new Set<Socket>();
  private nextNumber = 10001;
  private seq = 0;
  private readonly authorization: string;

  private constructor(
    private readonly server: Server,
    /** The instance URL (`http://127.0.0.1:port`), what `SERVICENOW_INSTANCE` would hold. */
    readonly url: string,
    readonly username: string,
    options: FakeServiceNowOptions,
  ) {
    this.authorization = `Basic ${Buffer.from(`${username}:${options.password ?? "fake-sn-password"}`).toString("base64")}`;
    this.closeRule = options.closeRule ?? "forbid";
  }

  static async start(options: FakeServiceNowOptions = {}): Promise<FakeServiceNow> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const fake = new FakeServiceNow(
      server,
      `http://127.0.0.1:${port}`,
      options.username ?? "zen.integration",
      options,
    );
    server.on("connection", (socket) => {
      fake.sockets.add(socket);
      socket.on("close", () => fake.sockets.delete(socket));
    });
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        void fake.handle(req.method ?? "GET", req.url ?? "/", req.headers, Buffer.concat(chunks), res);
      });
    });
    return fake;
  }

  /** Every stored incident, oldest first (raw values, journal fields omitted). */
  get incidents(): Readonly<Record<string, string>>[] {
    return [...this.records.values()].sort((a, b) => a.seq - b.seq).map((r) => ({ ...r.fields }));
  }

  /** One stored incident by sys_id (raw values). */
  record(sysId: string): Readonly<Record<string, string>> | undefined {
    const stored = this.records.get(sysId);
    return stored ? { ...stored.fields } : undefined;
  }

  /** Journal entries (`work_notes`, `comments`) of one incident, oldest first. */
  journal(sysId: string): readonly JournalEntry[] {
    return [...(this.records.get(sysId)?.journal ?? [])];
  }

  /** Inserts a record directly (test setup), as POST would; returns it. */
  seed(fields: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    return { ...this.insert(fields).fields };
  }

  /** Queues answers for the next matching requests, in order, before auth and routing. */
  respondNext(...responses: ScriptedResponse[]): this {
    this.script.push(...responses);
    return this;
  }

  /** The next `count` requests answer `status` (default 503) with the envelope. */
  failNext(count = 1, status = 503): this {
    for (let i = 0; i < count; i++) {
      this.script.push({ status, message: "Service Unavailable", detail: "The instance is unavailable" });
    }
    return this;
  }

  /** The next request answers 429 with `Retry-After` and the `X-RateLimit-*` headers of the doc. */
  rateLimitNext(retryAfterSeconds?: number): this {
    const resetSeconds = Math.ceil(Date.now() / 1000) + (retryAfterSeconds ?? 3600);
    this.script.push({
      status: 429,
      headers: {
        ...(retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) }),
        "x-ratelimit-limit": "10",
        "x-ratelimit-reset": String(resetSeconds),
        "x-ratelimit-rule": "d5a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4",
      },
      message: "Rate limit exceeded",
      detail: "Rate limit of 10 requests per hour for Table API exceeded",
    });
    return this;
  }

  /** Forgets requests, counters, scripts, modes and records. */
  reset(): this {
    this.requests.length = 0;
    for (const kind of Object.keys(this.calls) as CallKind[]) this.calls[kind] = 0;
    this.ignoredQueryParts.length = 0;
    this.script.length = 0;
    this.records.clear();
    this.acl.insert = false;
    this.acl.write = false;
    this.acl.read = false;
    this.closeRule = "forbid";
    this.delayMs = 0;
    this.queryDelayMs = 0;
    return this;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private callKind(method: string, sysId: string | undefined): CallKind | undefined {
    if (method === "POST" && sysId === undefined) return "create";
    if (method === "GET") return sysId === undefined ? "query" : "get";
    if ((method === "PATCH" || method === "PUT") && sysId !== undefined) return "update";
    if (method === "DELETE" && sysId !== undefined) return "delete";
    return undefined;
  }

  private async handle(
    method: string,
    rawUrl: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const url = new URL(rawUrl, this.url);
    const match = url.pathname.startsWith(tablePrefix)
      ? /^([A-Za-z0-9_]+)(?:\/([^/]+))?$/.exec(url.pathname.slice(tablePrefix.length))
      : null;
    const kind = match ? this.callKind(method, match[2]) : undefined;
    this.requests.push({
      method,
      url: rawUrl,
      headers,
      body: body.toString("utf8"),
      kind,
      receivedAt: Date.now(),
    });
    if (kind) this.calls[kind]++;
    const wait = this.delayMs + (kind === "query" ? this.queryDelayMs : 0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (res.destroyed) return;
    const reply = this.route({
      method,
      url,
      headers,
      body,
      kind,
      isTablePath: match !== null,
      tableName: match?.[1],
      sysId: match?.[2],
    });
    res.writeHead(reply.status, {
      ...(reply.status === 204 ? {} : { "content-type": "application/json;charset=UTF-8" }),
      "content-length": Buffer.byteLength(reply.body),
      ...reply.headers,
    });
    res.end(reply.body);
  }

  /** The answer to one request, after the delay; scripted answers first, then auth, then the Table API. */
  private route(incoming: Incoming): Answer {
    const { method, url, headers, body, kind, isTablePath, tableName, sysId } = incoming;
    const scriptedAt = this.script.findIndex((s) => s.kind === undefined || s.kind === kind);
    if (scriptedAt !== -1) {
      const [scripted] = this.script.splice(scriptedAt, 1);
      if (scripted) {
        const text =
          scripted.body ?? envelope(scripted.message ?? `HTTP ${scripted.status}`, scripted.detail ?? null);
        return answer(scripted.status, text, scripted.headers);
      }
    }

    if (headers.authorization !== this.authorization) {
      return answer(401, envelope("User Not Authenticated", "Required to provide Auth information"), {
        "www-authenticate": 'Basic realm="Service-now"',
      });
    }
    if (!isTablePath || kind === undefined) {
      if (isTablePath) return answer(405, envelope("Method not Supported", `${method} is not supported`));
      return answer(400, envelope("Requested URI does not represent any resource", null));
    }
    if (tableName !== table) {
      return answer(400, envelope(`Invalid table ${tableName}`, null));
    }

    let input: Record<string, unknown> = {};
    if (kind === "create" || kind === "update") {
      try {
        const parsed: unknown = JSON.parse(body.toString("utf8"));
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
          throw new Error("not an object");
        input = parsed as Record<string, unknown>;
      } catch {
        return answer(400, envelope("Exception while reading request", "The payload is not valid JSON."));
      }
    }

    const params = url.searchParams;
    switch (kind) {
      case "create":
        return this.create(input, params);
      case "get":
        return this.getOne(sysId ?? "", params);
      case "query":
        return this.query(params);
      case "update":
        return this.update(sysId ?? "", input, params);
      case "delete":
        return this.remove(sysId ?? "");
      default: {
        const _exhaustive: never = kind;
        throw new Error(`unhandled ${String(_exhaustive)}`);
      }
    }
  }

  private create(input: Record<string, unknown>, params: URLSearchParams): Answer {
    if (this.acl.insert) {
      return answer(
        403,
        envelope("Operation Failed", "ACL Exception Insert Failed due to security constraints"),
      );
    }
    const writes = this.writes(input);
    const problem = this.policyProblem({ state: "1", ...writes.fields });
    if (problem) {
      if (this.closeRule === "ignore") writes.fields.state = "1";
      else return answer(this.closeRule === "reject" ? 400 : 403, problem);
    }
    const stored = this.insert(writes.fields);
    for (const [field, value] of writes.journal)
      stored.journal.push({ field, value, at: stored.fields.sys_created_on ?? "" });
    const sysId = stored.fields.sys_id ?? "";
    return answer(201, JSON.stringify({ result: this.present(stored, params) }), {
      location: `${this.url}${tablePrefix}${table}/${sysId}`,
    });
  }

  private insert(given: Readonly<Record<string, string>>): StoredRecord {
    const now = glideDateTime(Date.now());
    const sysId = randomBytes(16).toString("hex");
    const fields: Record<string, string> = {
      sys_id: sysId,
      number: `INC${String(this.nextNumber++).padStart(7, "0")}`,
      short_description: "",
      description: "",
      urgency: "3",
      impact: "3",
      state: "1",
      hold_reason: "",
      category: "inquiry",
      subcategory: "",
      contact_type: "",
      close_code: "",
      close_notes: "",
      correlation_id: "",
      correlation_display: "",
      caller_id: "",
      assignment_group: "",
      assigned_to: "",
      opened_by: apiUserSysId,
      resolved_by: "",
      closed_by: "",
      cmdb_ci: "",
      business_service: "",
      company: "",
      location: "",
      work_notes: "",
      comments: "",
      sys_created_on: now,
      sys_updated_on: now,
      sys_created_by: this.username,
      sys_updated_by: this.username,
      sys_mod_count: "0",
      sys_class_name: table,
      opened_at: now,
      resolved_at: "",
      closed_at: "",
      ...given,
    };
    this.derive(fields, now);
    const stored: StoredRecord = { fields, seq: this.seq++, journal: [] };
    this.records.set(sysId, stored);
    return stored;
  }

  /** Computed columns: priority, incident_state, active, resolved/closed timestamps. */
  private derive(fields: Record<string, string>, now: string): void {
    fields.priority = priorityOf(fields.impact ?? "3", fields.urgency ?? "3");
    fields.incident_state = fields.state ?? "1";
    fields.active = fields.state === "7" || fields.state === "8" ? "false" : "true";
    if (fields.state === "6" && fields.resolved_at === "") {
      fields.resolved_at = now;
      fields.resolved_by = apiUserSysId;
    }
    if (fields.state === "7" && fields.closed_at === "") {
      fields.closed_at = now;
      fields.closed_by = apiUserSysId;
    }
    if (fields.state !== "6" && fields.state !== "7") {
      fields.resolved_at = "";
      fields.closed_at = "";
    }
  }

  /** Input → string columns (numbers and booleans stringified as ServiceNow does) and journal writes. */
  private writes(input: Record<string, unknown>): {
    fields: Record<string, string>;
    journal: Array<["work_notes" | "comments", string]>;
  } {
    const fields: Record<string, string> = {};
    const journal: Array<["work_notes" | "comments", string]> = [];
    for (const [name, raw] of Object.entries(input)) {
      if (raw === null || typeof raw === "object") continue;
      const value = String(raw);
      if (journalFields.has(name)) {
        if (value !== "") journal.push([name as "work_notes" | "comments", value]);
      } else if (writableFields.has(name) || name.startsWith("u_")) {
        fields[name] = value;
      }
    }
    return { fields, journal };
  }

  /** A data-policy violation of the resulting record, as an error envelope; undefined when fine. */
  private policyProblem(result: Readonly<Record<string, string>>): string | undefined {
    const state = result.state;
    if ((state === "6" || state === "7") && (!result.close_code || !result.close_notes)) {
      return envelope(
        "Operation Failed",
        "Data Policy Exception: the following fields are mandatory: Resolution code, Resolution notes",
      );
    }
    if (state === "3" && !result.hold_reason) {
      return envelope(
        "Operation Failed",
        "Data Policy Exception: the following fields are mandatory: On hold reason",
      );
    }
    return undefined;
  }

  private visible(sysId: string): StoredRecord | undefined {
    return this.acl.read ? undefined : this.records.get(sysId);
  }

  private getOne(sysId: string, params: URLSearchParams): Answer {
    const stored = this.visible(sysId);
    if (!stored) return answer(404, notFound());
    return answer(200, JSON.stringify({ result: this.present(stored, params) }));
  }

  private query(params: URLSearchParams): Answer {
    const terms: Term[] = [];
    const query = params.get("sysparm_query");
    if (query !== null && query !== "") {
      for (const part of query.split("^")) {
        if (part === "") continue;
        const term = parseTerm(part);
        if (term) terms.push(term);
        else this.ignoredQueryParts.push(part);
      }
    } else {
      // Bare name=value filters (mutually exclusive with sysparm_query).
      for (const [name, value] of params) {
        if (!name.startsWith("sysparm_")) {
          terms.push({ kind: "filter", test: (r) => (r[name] ?? "") === value });
        }
      }
    }
    const filters = terms.filter((t) => t.kind === "filter");
    const orders = terms.filter((t) => t.kind === "order");
    let rows = this.acl.read ? [] : [...this.records.values()];
    rows = rows.filter((r) => filters.every((f) => f.test(r.fields)));
    rows.sort((a, b) => {
      for (const order of orders) {
        const x = a.fields[order.field] ?? "";
        const y = b.fields[order.field] ?? "";
        if (x !== y) return (x < y ? -1 : 1) * (order.desc ? -1 : 1);
      }
      // Insertion order breaks ties, in the direction of the last ordering (newest first for DESC).
      const desc = orders.at(-1)?.desc ?? false;
      return (a.seq - b.seq) * (desc ? -1 : 1);
    });
    const total = rows.length;
    const offset = Math.max(0, Number(params.get("sysparm_offset") ?? "0") || 0);
    const limit = Math.max(0, Number(params.get("sysparm_limit") ?? "10000") || 10000);
    const page = rows.slice(offset, offset + limit);
    return answer(200, JSON.stringify({ result: page.map((r) => this.present(r, params)) }), {
      "x-total-count": String(total),
    });
  }

  private update(sysId: string, input: Record<string, unknown>, params: URLSearchParams): Answer {
    const stored = this.visible(sysId);
    if (!stored) return answer(404, notFound());
    if (this.acl.write) {
      return answer(
        403,
        envelope("Operation Failed", "ACL Exception Update Failed due to security constraints"),
      );
    }
    const writes = this.writes(input);
    const problem = this.policyProblem({ ...stored.fields, ...writes.fields });
    if (problem) {
      if (this.closeRule === "ignore") delete writes.fields.state;
      else return answer(this.closeRule === "reject" ? 400 : 403, problem);
    }
    const now = glideDateTime(Date.now());
    Object.assign(stored.fields, writes.fields, {
      sys_updated_on: now,
      sys_updated_by: this.username,
      sys_mod_count: String(Number(stored.fields.sys_mod_count ?? "0") + 1),
    });
    this.derive(stored.fields, now);
    for (const [field, value] of writes.journal) stored.journal.push({ field, value, at: now });
    return answer(200, JSON.stringify({ result: this.present(stored, params) }));
  }

  private remove(sysId: string): Answer {
    if (!this.visible(sysId)) return answer(404, notFound());
    if (this.acl.write) {
      return answer(
        403,
        envelope("Operation Failed", "ACL Exception Delete Failed due to security constraints"),
      );
    }
    this.records.delete(sysId);
    return answer(204, "");
  }

  /** A record as the Table API renders it under the request's `sysparm_*` parameters. */
  private present(stored: StoredRecord, params: URLSearchParams): Record<string, unknown> {
    const display = params.get("sysparm_display_value") ?? "false";
    const excludeLinks = params.get("sysparm_exclude_reference_link") === "true";
    const wanted = params.get("sysparm_fields");
    const names =
      wanted === null || wanted === ""
        ? Object.keys(stored.fields)
        : wanted.split(",").filter((name) => name in stored.fields);
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const value = stored.fields[name] ?? "";
      const isReference = referenceFields.has(name);
      const label =
        choiceLabels[name]?.[value] ?? (isReference ? (this.displayNames.get(value) ?? value) : value);
      const link =
        isReference && value !== ""
          ? `${this.url}${tablePrefix}${referenceTables[name] ?? "sys_user"}/${value}`
          : undefined;
      if (display === "all") {
        out[name] =
          link && !excludeLinks ? { display_value: label, link, value } : { display_value: label, value };
      } else if (display === "true") {
        out[name] = link && !excludeLinks ? { display_value: label, link } : label;
      } else {
        out[name] = link && !excludeLinks ? { link, value } : value;
      }
    }
    return out;
  }
}
