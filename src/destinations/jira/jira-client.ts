/**
 * A thin typed client for the Jira Cloud REST API v3 (reference: providers.md §2): the handful of calls
 * ticketing needs, on one hardened undici `Agent` whose sockets go through the egress guard.
 *
 * Every failure leaves as a typed delivery error (`jiraFailure` for HTTP answers, `classifyNetworkError`
 * for transport errors), so the queue and the HTTP API decide what happens next. The token and the
 * Authorization header never appear in an error or a log line.
 */
import { type Dispatcher, request } from "undici";
import type { JiraProviderConfig } from "../../config/config.ts";
import { classifyNetworkError } from "../../domain/classify.ts";
import { ConfigError, PermanentError, RetryableError } from "../../domain/errors.ts";
import { type Clock, systemClock } from "../../ports/clock.ts";
import type { BodyFilter } from "../body-filter.ts";
import { zenUserAgent } from "../user-agent.ts";
import {
  agentOptions,
  type ConnectorFactory,
  type DispatcherFactory,
  defaultDispatcherFactory,
  type WebhookEgressPolicy,
  webhookEgressPolicy,
} from "../webhook/egress-policy.ts";
import { readCappedBody } from "../webhook/read-capped-body.ts";
import type { AdfDoc } from "./adf.ts";
import { jiraFailure } from "./jira-errors.ts";

/**
 * The webhook egress limits (10 s connect, 10 s to headers, 30 s per attempt, …), except that Jira's
 * answers are read, not discarded: search and issue bodies up to 1 MiB (we ask for few fields and
 * few results, so a real answer is a few KiB), error bodies up to 8 KiB for the field messages.
 */
export const jiraEgressPolicy: WebhookEgressPolicy = Object.freeze({
  ...webhookEgressPolicy,
  maxResponseBodyBytes: 1024 * 1024,
  errorSnippetBytes: 8 * 1024,
});

export interface JiraClientOptions {
  readonly connection: JiraProviderConfig;
  /** The egress-guarded connector (`createEgressGuard`); there is no unguarded default on purpose. */
  readonly connectorFactory: ConnectorFactory;
  /** Upper bound on a Retry-After Jira asks for (`Config.queue.maxRetryAfterMs`). */
  readonly maxRetryAfterMs: number;
  /** Default: the system clock (Retry-After dates). */
  readonly clock?: Clock;
  /** Default: `new Agent(options)`. */
  readonly dispatcherFactory?: DispatcherFactory;
  /** Overrides of `jiraEgressPolicy` (tests shorten timeouts). */
  readonly egress?: Partial<WebhookEgressPolicy>;
  /** Default `zen-integrations/<version>`. */
  readonly userAgent?: string;
}

/** Fields of `POST /rest/api/3/issue` we set. */
export interface JiraIssueFields {
  readonly project: { readonly key: string };
  readonly summary: string;
  readonly issuetype: { readonly name: string };
  readonly description?: AdfDoc;
  readonly priority?: { readonly name: string };
  readonly labels?: readonly string[];
}

export interface CreatedIssue {
  readonly id: string;
  readonly key: string;
  readonly self: string;
}

export interface JiraStatus {
  readonly name: string;
  /** `new`, `indeterminate` or `done`. */
  readonly categoryKey: string;
}

export interface JiraIssueSummary {
  readonly id: string;
  readonly key: string;
  readonly status?: JiraStatus;
}

export interface JiraTransition {
  /** Workflow-specific: look transitions up by name, never hard-code ids. */
  readonly id: string;
  readonly name: string;
  readonly to?: { readonly name: string; readonly statusCategory?: { readonly key?: string } };
}

export interface JiraIssue {
  readonly id: string;
  readonly key: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Which issues a label search returns. */
export type StatusCategoryFilter = "open" | "done";

/** Results asked for per search: dedupe needs the newest one; a second says "there were duplicates". */
const searchPageSize = 2;

export class JiraClient {
  /** The site URL without a trailing slash (`https://acme.atlassian.net`, or a DC context path). */
  readonly baseUrl: string;
  private readonly authorization: string;
  private readonly secrets: readonly string[];
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;
  private readonly userAgent: string;
  private readonly policy: WebhookEgressPolicy;
  private readonly dispatcher: Dispatcher;
  private closing: Promise<void> | undefined;

  /** @throws ConfigError when the connection URL is not http(s). */
  constructor(options: JiraClientOptions) {
    const { connection } = options;
    let url: URL;
    try {
      url = new URL(connection.url);
    } catch {
      throw new ConfigError(["providers.jira.url: not a valid URL"]);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new ConfigError([`providers.jira.url: must be http(s), got ${url.protocol}`]);
    }
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    // Basic email:token for Jira Cloud API tokens; Bearer for Data Center personal access tokens.
    this.authorization =
      connection.email === undefined
        ? `Bearer ${connection.token}`
        : `Basic ${Buffer.from(`${connection.email}:${connection.token}`).toString("base64")}`;
    this.secrets = [connection.token, this.authorization];
    this.maxRetryAfterMs = options.maxRetryAfterMs;
    this.clock = options.clock ?? systemClock;
    this.userAgent = options.userAgent ?? zenUserAgent;
    this.policy = Object.freeze({ ...jiraEgressPolicy, ...options.egress });
    const dispatcherFactory = options.dispatcherFactory ?? defaultDispatcherFactory;
    this.dispatcher = dispatcherFactory(agentOptions(this.policy, options.connectorFactory));
  }

  /** `<site>/browse/<key>`: the issue's page for humans. */
  browseUrl(key: string): string {
    return `${this.baseUrl}/browse/${encodeURIComponent(key)}`;
  }

  /** `POST /rest/api/3/issue` → 201 `{id,key,self}`; `filter` sees the serialized body last. */
  async createIssue(
    fields: JiraIssueFields,
    signal: AbortSignal,
    filter?: BodyFilter,
  ): Promise<CreatedIssue> {
    const body = await this.call(
      "POST",
      "/rest/api/3/issue",
      { body: { fields }, ...(filter && { filter }) },
      signal,
    );
    const issue = body as Partial<CreatedIssue> | undefined;
    if (typeof issue?.key !== "string" || typeof issue.id !== "string") {
      throw new RetryableError("unknown", "Jira answered the create without an issue key");
    }
    return { id: issue.id, key: issue.key, self: typeof issue.self === "string" ? issue.self : "" };
  }

  /**
   * Issues carrying `label`, newest first: `open` ones (`statusCategory != Done`) or `done` ones
   * (most recently updated first), optionally within one project. Uses the enhanced search
   * `POST /rest/api/3/search/jql` (the old `/rest/api/3/search` is retired on Jira Cloud).
   */
  async searchByLabel(
    label: string,
    filter: { readonly statusCategory: StatusCategoryFilter; readonly project?: string },
    signal: AbortSignal,
  ): Promise<readonly JiraIssueSummary[]> {
    const clauses = [`labels = ${jqlString(label)}`];
    if (filter.project !== undefined) clauses.unshift(`project = ${jqlString(filter.project)}`);
    clauses.push(filter.statusCategory === "open" ? "statusCategory != Done" : "statusCategory = Done");
    const order = filter.statusCategory === "open" ? "ORDER BY created DESC" : "ORDER BY updated DESC";
    return this.search(`${clauses.join(" AND ")} ${order}`, signal);
  }

  /** Runs a JQL query; returns up to `searchPageSize` issues with their status. */
  async search(jql: string, signal: AbortSignal): Promise<readonly JiraIssueSummary[]> {
    const body = await this.call(
      "POST",
      "/rest/api/3/search/jql",
      { body: { jql, maxResults: searchPageSize, fields: ["status", "created", "updated"] } },
      signal,
    );
    const issues = (body as { issues?: unknown } | undefined)?.issues;
    if (!Array.isArray(issues)) throw new RetryableError("unknown", "Jira answered a search without issues");
    const out: JiraIssueSummary[] = [];
    for (const raw of issues) {
      const issue = raw as { id?: unknown; key?: unknown; fields?: { status?: unknown } };
      if (typeof issue.key !== "string") continue;
      const status = statusOf(issue.fields?.status);
      out.push({ id: String(issue.id ?? ""), key: issue.key, ...(status && { status }) });
    }
    return out;
  }

  /** `GET /rest/api/3/issue/{key}?fields=…`. */
  async getIssue(key: string, fields: readonly string[], signal: AbortSignal): Promise<JiraIssue> {
    const body = await this.call(
      "GET",
      `/rest/api/3/issue/${encodeURIComponent(key)}`,
      { query: { fields: fields.join(",") } },
      signal,
    );
    const issue = body as { id?: unknown; key?: unknown; fields?: unknown } | undefined;
    const fieldsOut =
      issue?.fields !== null && typeof issue?.fields === "object"
        ? (issue.fields as Record<string, unknown>)
        : {};
    return {
      id: String(issue?.id ?? ""),
      key: typeof issue?.key === "string" ? issue.key : key,
      fields: fieldsOut,
    };
  }

  /** The issue's current status (name and category key). */
  async getIssueStatus(key: string, signal: AbortSignal): Promise<JiraStatus | undefined> {
    const issue = await this.getIssue(key, ["status"], signal);
    return statusOf(issue.fields.status);
  }

  /** `POST /rest/api/3/issue/{key}/comment` with an ADF body → 201; `filter` sees the serialized body last. */
  async addComment(key: string, body: AdfDoc, signal: AbortSignal, filter?: BodyFilter): Promise<void> {
    await this.call(
      "POST",
      `/rest/api/3/issue/${encodeURIComponent(key)}/comment`,
      { body: { body }, ...(filter && { filter }) },
      signal,
    );
  }

  /**
   * `GET /rest/api/3/issue/{key}/transitions`: the transitions available from the issue's current
   * status (an account without the *Transition issues* permission gets an empty list, not an error).
   */
  async getTransitions(key: string, signal: AbortSignal): Promise<readonly JiraTransition[]> {
    const body = await this.call(
      "GET",
      `/rest/api/3/issue/${encodeURIComponent(key)}/transitions`,
      {},
      signal,
    );
    const list = (body as { transitions?: unknown } | undefined)?.transitions;
    if (!Array.isArray(list)) return [];
    const out: JiraTransition[] = [];
    for (const raw of list) {
      const t = raw as {
        id?: unknown;
        name?: unknown;
        to?: { name?: unknown; statusCategory?: { key?: unknown } };
      };
      if (t.id === undefined || typeof t.name !== "string") continue;
      const to =
        typeof t.to?.name === "string"
          ? {
              name: t.to.name,
              ...(typeof t.to.statusCategory?.key === "string" && {
                statusCategory: { key: t.to.statusCategory.key },
              }),
            }
          : undefined;
      out.push({ id: String(t.id), name: t.name, ...(to && { to }) });
    }
    return out;
  }

  /**
   * Moves the issue through the transition called `name`: matched case-insensitively against the
   * transition names first, then against their target status names (ids differ per workflow).
   * `POST /rest/api/3/issue/{key}/transitions` → 204.
   * @returns the transition taken.
   * @throws PermanentError `validation_failed` naming the available transitions when none matches.
   */
  async doTransition(key: string, name: string, signal: AbortSignal): Promise<JiraTransition> {
    const transitions = await this.getTransitions(key, signal);
    const transition = pickTransition(transitions, name);
    if (!transition) {
      const available =
        transitions.length === 0
          ? "none (the account may lack the Transition issues permission)"
          : transitions.map((t) => (t.to ? `"${t.name}" (→ ${t.to.name})` : `"${t.name}"`)).join(", ");
      throw new PermanentError(
        "validation_failed",
        `Jira issue ${key} has no transition named "${name}"; available: ${available}`,
      );
    }
    await this.call(
      "POST",
      `/rest/api/3/issue/${encodeURIComponent(key)}/transitions`,
      { body: { transition: { id: transition.id } } },
      signal,
    );
    return transition;
  }

  /** Closes the connection pool (idempotent). */
  close(): Promise<void> {
    this.closing ??= this.dispatcher.close();
    return this.closing;
  }

  /**
   * One request. JSON in and out; the answer is read up to `maxResponseBodyBytes`.
   * @returns the parsed JSON body of a 2xx (undefined for an empty one).
   * @throws the `jiraFailure` of a non-2xx, `classifyNetworkError` of a transport failure, and
   *   whatever `options.filter` throws (before anything is sent).
   */
  private async call(
    method: "GET" | "POST",
    path: string,
    options: {
      readonly body?: unknown;
      readonly query?: Readonly<Record<string, string>>;
      readonly filter?: BodyFilter;
    },
    signal: AbortSignal,
  ): Promise<unknown> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = {
      authorization: this.authorization,
      accept: "application/json",
      "user-agent": this.userAgent,
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    let text: string | undefined;
    if (options.body !== undefined) {
      const json = JSON.stringify(options.body);
      text = options.filter ? options.filter(json) : json;
    }

    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        dispatcher: this.dispatcher,
        method,
        headers,
        ...(text !== undefined && { body: text }),
        signal,
      });
    } catch (err) {
      throw classifyNetworkError(err);
    }

    const ok = response.statusCode >= 200 && response.statusCode <= 299;
    const limit = ok ? this.policy.maxResponseBodyBytes : this.policy.errorSnippetBytes;
    let answer: string;
    let truncated: boolean;
    try {
      const read = await readCappedBody(response.body, limit, limit);
      answer = read.snippet;
      truncated = read.truncated;
    } catch (err) {
      if (!ok)
        throw jiraFailure(
          this.facts(response, `(response body unreadable: ${classifyNetworkError(err).reason})`),
        );
      throw classifyNetworkError(err);
    }
    if (!ok) throw jiraFailure(this.facts(response, answer));
    if (answer.trim() === "") return undefined;
    if (truncated) {
      throw new RetryableError("unknown", `Jira answer to ${method} ${path} exceeds ${limit} bytes`, {
        statusCode: response.statusCode,
      });
    }
    try {
      return JSON.parse(answer) as unknown;
    } catch {
      throw new RetryableError("unknown", `Jira answered ${method} ${path} with a body that is not JSON`, {
        statusCode: response.statusCode,
      });
    }
  }

  private facts(response: Dispatcher.ResponseData, body: string) {
    return {
      status: response.statusCode,
      headers: response.headers,
      body,
      nowMs: this.clock.now(),
      maxRetryAfterMs: this.maxRetryAfterMs,
      secrets: this.secrets,
    };
  }
}

/** By transition name first, then by target status name; both case-insensitive. */
export function pickTransition(
  transitions: readonly JiraTransition[],
  name: string,
): JiraTransition | undefined {
  const wanted = name.trim().toLowerCase();
  return (
    transitions.find((t) => t.name.trim().toLowerCase() === wanted) ??
    transitions.find((t) => t.to?.name.trim().toLowerCase() === wanted)
  );
}

/** A JQL string literal: double-quoted, with `"` and `\` escaped. */
export function jqlString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function statusOf(raw: unknown): JiraStatus | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const status = raw as { name?: unknown; statusCategory?: { key?: unknown } };
  if (typeof status.name !== "string") return undefined;
  const key = status.statusCategory?.key;
  return { name: status.name, categoryKey: typeof key === "string" ? key : "" };
}
