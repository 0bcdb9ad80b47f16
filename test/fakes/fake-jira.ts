/**
 * A fake Jira Cloud (REST v3) for tests: a real `node:http` server on 127.0.0.1, port 0, that behaves
 * as documented in providers.md §2 (the "fake Jira server checklist"):
 *
 * - Basic (`email:token`) or Bearer auth, 401 with an ErrorCollection otherwise; 403 per project;
 * - `POST /rest/api/3/issue`: 201 `{id,key,self}` with monotonic keys per project (`OPS-1`, `OPS-2`),
 *   400 ErrorCollection for a missing/unknown project or issue type, a missing, over-long (> 255) or
 *   multi-line summary, an unknown priority name, labels with spaces, a description that is not a
 *   valid ADF document (empty text nodes, unknown nodes, marks in code blocks, bad root);
 * - `POST /rest/api/3/search/jql` (and `GET`): JQL `project = / labels = / status = /
 *   statusCategory =|!=` joined by AND, `ORDER BY created|updated ASC|DESC`; the retired
 *   `/rest/api/3/search` answers 410; an optional index lag hides fresh issues from search;
 * - `GET /rest/api/3/issue/{key}` with `fields=`; comments (`POST`/`GET .../comment`);
 * - transitions per workflow (ids are workflow-specific strings), `GET` lists those available from the
 *   current status, `POST` answers 204 or 400 for an unknown id;
 * - scripted failures (429 + Retry-After, 5xx, …) per endpoint, optionally *after* the change was made
 *   (a lost answer), and per-endpoint delays; call counts per endpoint; inspection of issues.
 *
 * Wording of Jira's error messages follows the reference where given, else is illustrative.
 */
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type StatusCategoryKey = "new" | "indeterminate" | "done";

export interface FakeWorkflow {
  readonly statuses: readonly {
    readonly id: string;
    readonly name: string;
    readonly category: StatusCategoryKey;
  }[];
  readonly initial: string;
  /** `from` absent: a global transition (available from every other status). */
  readonly transitions: readonly {
    readonly id: string;
    readonly name: string;
    readonly to: string;
    readonly from?: readonly string[];
  }[];
}

/** Jira's simplified (team-managed) workflow: To Do → In Progress → Done, every transition global. */
export const simplifiedWorkflow: FakeWorkflow = {
  statuses: [
    { id: "10000", name: "To Do", category: "new" },
    { id: "3", name: "In Progress", category: "indeterminate" },
    { id: "10001", name: "Done", category: "done" },
  ],
  initial: "To Do",
  transitions: [
    { id: "11", name: "To Do", to: "To Do" },
    { id: "21", name: "In Progress", to: "In Progress" },
    { id: "31", name: "Done", to: "Done" },
  ],
};

/** The classic Jira workflow: transition names differ from status names, ids differ from the above. */
export const classicWorkflow: FakeWorkflow = {
  statuses: [
    { id: "1", name: "Open", category: "new" },
    { id: "3", name: "In Progress", category: "indeterminate" },
    { id: "4", name: "Reopened", category: "new" },
    { id: "5", name: "Resolved", category: "done" },
    { id: "6", name: "Closed", category: "done" },
  ],
  initial: "Open",
  transitions: [
    { id: "4", name: "Start Progress", to: "In Progress", from: ["Open", "Reopened"] },
    { id: "5", name: "Resolve Issue", to: "Resolved", from: ["Open", "In Progress", "Reopened"] },
    { id: "2", name: "Close Issue", to: "Closed", from: ["Open", "In Progress", "Reopened", "Resolved"] },
    { id: "3", name: "Reopen Issue", to: "Reopened", from: ["Resolved", "Closed"] },
  ],
};

export interface FakeProject {
  readonly key: string;
  readonly issueTypes?: readonly string[];
  readonly workflow?: FakeWorkflow;
}

export interface FakeJiraOptions {
  /** Basic auth `email:token` when set; otherwise `Bearer token`. */
  readonly email?: string;
  readonly token: string;
  /** Default: `OPS` with Task/Bug on the simplified workflow. */
  readonly projects?: readonly FakeProject[];
  /** Default: Highest, High, Medium, Low, Lowest. */
  readonly priorities?: readonly string[];
}

export type Endpoint =
  | "create"
  | "search"
  | "getIssue"
  | "addComment"
  | "listComments"
  | "getTransitions"
  | "transition"
  | "other";

export interface FakeFailure {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON-serialized unless a string. Default: an ErrorCollection naming the status. */
  readonly body?: unknown;
  /** Only for this endpoint; default any. */
  readonly endpoint?: Endpoint;
  /** Do the work, then answer with the failure (the client never learns it succeeded). */
  readonly afterCommit?: boolean;
}

export interface FakeComment {
  readonly id: string;
  readonly body: unknown;
  readonly created: number;
}

export interface FakeIssue {
  readonly id: string;
  readonly key: string;
  readonly project: string;
  readonly summary: string;
  readonly issueType: string;
  readonly description: unknown;
  readonly priority: string | undefined;
  readonly labels: readonly string[];
  status: string;
  resolution: string | undefined;
  readonly created: number;
  updated: number;
  readonly comments: FakeComment[];
  /** Names of the transitions taken, in order. */
  readonly transitions: string[];
}

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly endpoint: Endpoint;
  readonly authorization: string | undefined;
  readonly body: string;
  /** Real ms since epoch. */
  readonly at: number;
}

const defaultPriorities = ["Highest", "High", "Medium", "Low", "Lowest"];

interface ProjectState {
  readonly key: string;
  readonly issueTypes: readonly string[];
  readonly workflow: FakeWorkflow;
  next: number;
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

const errorCollection = (errorMessages: readonly string[], errors: Record<string, string> = {}) => ({
  errorMessages,
  errors,
});

export class FakeJira {
  readonly issues: FakeIssue[] = [];
  readonly requests: FakeRequest[] = [];
  readonly calls: Record<Endpoint, number> = {
    create: 0,
    search: 0,
    getIssue: 0,
    addComment: 0,
    listComments: 0,
    getTransitions: 0,
    transition: 0,
    other: 0,
  };
  /** Issues younger than this are invisible to search (Jira's eventually consistent index). */
  searchLagMs = 0;
  private readonly failures: FakeFailure[] = [];
  private readonly delays = new Map<Endpoint, number>();
  private readonly forbidden = new Set<string>();
  private readonly projects = new Map<string, ProjectState>();
  private readonly priorities: readonly string[];
  private readonly expectedAuth: string;
  private readonly sockets = new Set<Socket>();
  private nextIssueId = 10_000;
  private nextCommentId = 20_000;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    options: FakeJiraOptions,
  ) {
    this.expectedAuth =
      options.email === undefined
        ? `Bearer ${options.token}`
        : `Basic ${Buffer.from(`${options.email}:${options.token}`).toString("base64")}`;
    this.priorities = options.priorities ?? defaultPriorities;
    for (const p of options.projects ?? [{ key: "OPS" }]) {
      this.projects.set(p.key, {
        key: p.key,
        issueTypes: p.issueTypes ?? ["Task", "Bug"],
        workflow: p.workflow ?? simplifiedWorkflow,
        next: 1,
      });
    }
  }

  static async start(options: FakeJiraOptions): Promise<FakeJira> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const jira = new FakeJira(server, `http://127.0.0.1:${port}`, options);
    server.on("connection", (socket) => {
      jira.sockets.add(socket);
      socket.on("close", () => jira.sockets.delete(socket));
    });
    server.on("request", (req, res) => {
      jira.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify(errorCollection([`fake Jira crashed: ${String(err)}`])));
      });
    });
    return jira;
  }

  /** Queues a failure for the next matching request(s). */
  failNext(failure: FakeFailure, times = 1): this {
    for (let i = 0; i < times; i++) this.failures.push(failure);
    return this;
  }

  /**
   * Delays every answer of `endpoint` by `ms` real milliseconds; the answer is computed on arrival,
   * so a slow search reports the issues of that moment (widens race windows as a slow Jira does).
   */
  delay(endpoint: Endpoint, ms: number): this {
    this.delays.set(endpoint, ms);
    return this;
  }

  /** Creating issues in `project` answers 403. */
  forbid(project: string): this {
    this.forbidden.add(project);
    return this;
  }

  issue(key: string): FakeIssue | undefined {
    return this.issues.find((i) => i.key === key || i.id === key);
  }

  /** Issues carrying `label`. */
  withLabel(label: string): FakeIssue[] {
    return this.issues.filter((i) => i.labels.includes(label));
  }

  /** Forgets issues, requests, counts, failures and delays (keys restart at 1). */
  reset(): this {
    this.issues.length = 0;
    this.requests.length = 0;
    for (const key of Object.keys(this.calls) as Endpoint[]) this.calls[key] = 0;
    this.failures.length = 0;
    this.delays.clear();
    this.forbidden.clear();
    this.searchLagMs = 0;
    for (const p of this.projects.values()) p.next = 1;
    return this;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const route = this.route(method, url.pathname);
    this.calls[route.endpoint]++;
    this.requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      endpoint: route.endpoint,
      authorization: req.headers.authorization,
      body,
      at: Date.now(),
    });

    let answer: HttpAnswer;
    if (req.headers.authorization !== this.expectedAuth) {
      answer = new HttpAnswer(
        401,
        errorCollection(["Client must be authenticated to access this resource."]),
      );
    } else {
      const failureIndex = this.failures.findIndex(
        (f) => f.endpoint === undefined || f.endpoint === route.endpoint,
      );
      const failure = failureIndex >= 0 ? this.failures.splice(failureIndex, 1)[0] : undefined;
      if (failure && !failure.afterCommit) {
        answer = failureAnswer(failure);
      } else {
        answer = this.run(route, method, url, body);
        if (failure) answer = failureAnswer(failure);
      }
    }
    // A slow answer, computed when the request arrived (a search sees the issues of that moment).
    const delayMs = this.delays.get(route.endpoint);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const payload =
      answer.body === undefined
        ? ""
        : typeof answer.body === "string"
          ? answer.body
          : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...(payload === "" ? {} : { "content-type": "application/json;charset=UTF-8" }),
      ...answer.headers,
    });
    res.end(payload);
  }

  private route(method: string, path: string): { endpoint: Endpoint; key?: string } {
    if (method === "POST" && path === "/rest/api/3/issue") return { endpoint: "create" };
    if (path === "/rest/api/3/search/jql") return { endpoint: "search" };
    const m = /^\/rest\/api\/3\/issue\/([^/]+)(\/comment|\/transitions)?$/.exec(path);
    if (m?.[1]) {
      const key = decodeURIComponent(m[1]);
      if (m[2] === "/comment") return { endpoint: method === "POST" ? "addComment" : "listComments", key };
      if (m[2] === "/transitions")
        return { endpoint: method === "POST" ? "transition" : "getTransitions", key };
      if (method === "GET") return { endpoint: "getIssue", key };
    }
    return { endpoint: "other" };
  }

  private run(
    route: { endpoint: Endpoint; key?: string },
    method: string,
    url: URL,
    body: string,
  ): HttpAnswer {
    try {
      switch (route.endpoint) {
        case "create":
          return this.create(parseJson(body));
        case "search": {
          if (method === "GET") {
            return this.search({
              jql: url.searchParams.get("jql") ?? "",
              fields: (url.searchParams.get("fields") ?? "").split(",").filter(Boolean),
              maxResults: Number(url.searchParams.get("maxResults") ?? 50),
            });
          }
          return this.search(parseJson(body));
        }
        case "getIssue":
          return this.getIssue(
            route.key ?? "",
            (url.searchParams.get("fields") ?? "").split(",").filter(Boolean),
          );
        case "addComment":
          return this.addComment(route.key ?? "", parseJson(body));
        case "listComments": {
          const issue = this.mustFind(route.key ?? "");
          return new HttpAnswer(200, commentsField(issue));
        }
        case "getTransitions":
          return this.getTransitions(route.key ?? "");
        case "transition":
          return this.transition(route.key ?? "", parseJson(body));
        case "other":
          if (url.pathname === "/rest/api/3/search") {
            return new HttpAnswer(
              410,
              errorCollection([
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.",
              ]),
            );
          }
          return new HttpAnswer(404, errorCollection([`No resource at ${method} ${url.pathname}`]));
        default: {
          const _exhaustive: never = route.endpoint;
          return _exhaustive;
        }
      }
    } catch (err) {
      if (err instanceof HttpAnswer) return err;
      throw err;
    }
  }

  private create(input: unknown): HttpAnswer {
    const fields = (input as { fields?: unknown } | null)?.fields;
    if (fields === null || typeof fields !== "object" || Array.isArray(fields)) {
      return new HttpAnswer(
        400,
        errorCollection(["Can not deserialize the request: 'fields' must be an object"]),
      );
    }
    const f = fields as Record<string, unknown>;
    const errors: Record<string, string> = {};

    const projectKey = refName(f.project, "key");
    const project = projectKey === undefined ? undefined : this.projects.get(projectKey);
    if (projectKey === undefined) errors.project = "Specify a valid project ID or key";
    else if (!project) errors.project = "valid project is required";

    const issueType = refName(f.issuetype, "name");
    if (issueType === undefined) errors.issuetype = "Specify an issue type";
    else if (project && !project.issueTypes.includes(issueType))
      errors.issuetype = "Specify a valid issue type";

    const summary = f.summary;
    if (typeof summary !== "string" || summary.trim() === "")
      errors.summary = "You must specify a summary of the issue.";
    else if (summary.length > 255) errors.summary = "Summary must be less than 255 characters.";
    else if (/[\r\n]/.test(summary))
      errors.summary = "The summary is invalid because it contains newline characters.";

    if (f.description !== undefined && f.description !== null) {
      const problem = adfProblem(f.description);
      if (problem) errors.description = problem;
    }

    let priority: string | undefined;
    if (f.priority !== undefined) {
      priority = refName(f.priority, "name");
      if (priority === undefined || !this.priorities.includes(priority)) {
        errors.priority = `Priority name '${String(priority)}' is not valid.`;
      }
    }

    const labels: string[] = [];
    if (f.labels !== undefined) {
      if (!Array.isArray(f.labels) || f.labels.some((l) => typeof l !== "string")) {
        errors.labels = "Labels must be an array of strings.";
      } else {
        for (const label of f.labels as string[]) {
          if (/\s/.test(label)) errors.labels = `The label '${label}' contains spaces which is invalid.`;
          else if (label.length > 255)
            errors.labels = `The label '${label.slice(0, 20)}…' exceeds 255 characters.`;
          else if (label !== "") labels.push(label);
        }
      }
    }
    for (const name of Object.keys(f)) {
      if (!["project", "issuetype", "summary", "description", "priority", "labels"].includes(name)) {
        errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
      }
    }
    if (
      Object.keys(errors).length > 0 ||
      !project ||
      issueType === undefined ||
      typeof summary !== "string"
    ) {
      return new HttpAnswer(400, errorCollection([], errors));
    }
    if (this.forbidden.has(project.key)) {
      return new HttpAnswer(
        403,
        errorCollection(["You do not have permission to create issues in this project."]),
      );
    }
    const id = String(this.nextIssueId++);
    const now = Date.now();
    const issue: FakeIssue = {
      id,
      key: `${project.key}-${project.next++}`,
      project: project.key,
      summary,
      issueType,
      description: f.description,
      priority,
      labels,
      status: project.workflow.initial,
      resolution: undefined,
      created: now,
      updated: now,
      comments: [],
      transitions: [],
    };
    this.issues.push(issue);
    return new HttpAnswer(201, { id, key: issue.key, self: `${this.url}/rest/api/3/issue/${id}` });
  }

  private search(input: unknown): HttpAnswer {
    const request = (input ?? {}) as { jql?: unknown; maxResults?: unknown; fields?: unknown };
    if (typeof request.jql !== "string") return new HttpAnswer(400, errorCollection(["jql is required"]));
    let query: ParsedJql;
    try {
      query = parseJql(request.jql);
    } catch (err) {
      return new HttpAnswer(400, errorCollection([`Error in the JQL Query: ${(err as Error).message}`]));
    }
    const visibleBefore = Date.now() - this.searchLagMs;
    let found = this.issues.filter((issue) => issue.created <= visibleBefore && query.matches(issue, this));
    if (query.order) {
      const { field, direction } = query.order;
      found = [...found].sort((a, b) => (direction === "DESC" ? b[field] - a[field] : a[field] - b[field]));
    }
    const maxResults = typeof request.maxResults === "number" ? request.maxResults : 50;
    const fields = Array.isArray(request.fields) ? (request.fields as string[]) : [];
    return new HttpAnswer(200, {
      issues: found.slice(0, maxResults).map((issue) => this.render(issue, fields)),
      isLast: found.length <= maxResults,
    });
  }

  private getIssue(key: string, fields: readonly string[]): HttpAnswer {
    const issue = this.mustFind(key);
    return new HttpAnswer(200, this.render(issue, fields.length > 0 ? fields : ["*all"]));
  }

  private addComment(key: string, input: unknown): HttpAnswer {
    const issue = this.mustFind(key);
    const body = (input as { body?: unknown } | null)?.body;
    const problem = body === undefined ? "Comment body can not be empty!" : adfProblem(body);
    if (problem) return new HttpAnswer(400, errorCollection([], { comment: problem }));
    if ((body as { content?: unknown[] }).content?.length === 0) {
      return new HttpAnswer(400, errorCollection([], { comment: "Comment body can not be empty!" }));
    }
    const comment = { id: String(this.nextCommentId++), body, created: Date.now() };
    issue.comments.push(comment);
    issue.updated = comment.created;
    return new HttpAnswer(201, {
      id: comment.id,
      self: `${this.url}/rest/api/3/issue/${issue.id}/comment/${comment.id}`,
      body,
      created: new Date(comment.created).toISOString(),
    });
  }

  private getTransitions(key: string): HttpAnswer {
    const issue = this.mustFind(key);
    const workflow = this.workflowOf(issue);
    return new HttpAnswer(200, {
      expand: "transitions",
      transitions: available(workflow, issue.status).map((t) => ({
        id: t.id,
        name: t.name,
        hasScreen: false,
        isGlobal: t.from === undefined,
        isInitial: false,
        isAvailable: true,
        isConditional: false,
        to: statusJson(workflow, t.to, this.url),
      })),
    });
  }

  private transition(key: string, input: unknown): HttpAnswer {
    const issue = this.mustFind(key);
    const request = (input ?? {}) as { transition?: { id?: unknown }; update?: { comment?: unknown } };
    const id = request.transition?.id;
    if (id === undefined) return new HttpAnswer(400, errorCollection(["Missing 'transition' identifier"]));
    const workflow = this.workflowOf(issue);
    const transition = available(workflow, issue.status).find((t) => t.id === String(id));
    if (!transition) {
      return new HttpAnswer(
        400,
        errorCollection([`Transition id '${String(id)}' is not valid for this issue.`]),
      );
    }
    issue.status = transition.to;
    issue.resolution = categoryOf(workflow, transition.to) === "done" ? "Done" : undefined;
    issue.updated = Date.now();
    issue.transitions.push(transition.name);
    return new HttpAnswer(204, undefined);
  }

  private mustFind(key: string): FakeIssue {
    const issue = this.issue(key);
    if (!issue) {
      throw new HttpAnswer(
        404,
        errorCollection(["Issue does not exist or you do not have permission to see it."]),
      );
    }
    return issue;
  }

  workflowOf(issue: FakeIssue): FakeWorkflow {
    return this.projects.get(issue.project)?.workflow ?? simplifiedWorkflow;
  }

  /** Status category key of an issue's current status. */
  categoryOf(issue: FakeIssue): StatusCategoryKey {
    return categoryOf(this.workflowOf(issue), issue.status);
  }

  private render(issue: FakeIssue, fields: readonly string[]) {
    const all = fields.includes("*all");
    const want = (name: string) => all || fields.includes(name);
    const workflow = this.workflowOf(issue);
    const out: Record<string, unknown> = {};
    if (want("status")) out.status = statusJson(workflow, issue.status, this.url);
    if (want("summary")) out.summary = issue.summary;
    if (want("labels")) out.labels = issue.labels;
    if (want("description")) out.description = issue.description ?? null;
    if (want("priority")) out.priority = issue.priority === undefined ? null : { name: issue.priority };
    if (want("issuetype")) out.issuetype = { name: issue.issueType };
    if (want("project")) out.project = { key: issue.project };
    if (want("created")) out.created = new Date(issue.created).toISOString();
    if (want("updated")) out.updated = new Date(issue.updated).toISOString();
    if (want("resolution"))
      out.resolution = issue.resolution === undefined ? null : { name: issue.resolution };
    if (want("comment")) out.comment = commentsField(issue);
    return { id: issue.id, key: issue.key, self: `${this.url}/rest/api/3/issue/${issue.id}`, fields: out };
  }
}

function failureAnswer(failure: FakeFailure): HttpAnswer {
  const body = failure.body ?? errorCollection([`Injected failure (HTTP ${failure.status})`]);
  return new HttpAnswer(failure.status, body, failure.headers);
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new HttpAnswer(400, errorCollection(["Unexpected character: the request body is not valid JSON"]));
  }
}

/** `{"key":"OPS"}` / `{"name":"Task"}` / `{"id":"…"}` → the name (ids are not modelled). */
function refName(value: unknown, field: "key" | "name"): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === "string" && v !== "" ? v : undefined;
}

function categoryOf(workflow: FakeWorkflow, status: string): StatusCategoryKey {
  return workflow.statuses.find((s) => s.name === status)?.category ?? "new";
}

const categoryNames: Record<StatusCategoryKey, string> = {
  new: "To Do",
  indeterminate: "In Progress",
  done: "Done",
};

function statusJson(workflow: FakeWorkflow, status: string, base: string) {
  const s = workflow.statuses.find((x) => x.name === status);
  const category = s?.category ?? "new";
  return {
    self: `${base}/rest/api/3/status/${s?.id ?? "0"}`,
    name: status,
    id: s?.id ?? "0",
    statusCategory: { key: category, name: categoryNames[category] },
  };
}

function available(workflow: FakeWorkflow, status: string) {
  return workflow.transitions.filter(
    (t) => t.to !== status && (t.from === undefined || t.from.includes(status)),
  );
}

function commentsField(issue: FakeIssue) {
  return {
    comments: issue.comments.map((c) => ({
      id: c.id,
      body: c.body,
      created: new Date(c.created).toISOString(),
    })),
    startAt: 0,
    maxResults: 50,
    total: issue.comments.length,
  };
}

interface ParsedJql {
  matches(issue: FakeIssue, jira: FakeJira): boolean;
  readonly order?: { readonly field: "created" | "updated"; readonly direction: "ASC" | "DESC" };
}

/** `field op value [AND …] [ORDER BY created|updated [ASC|DESC]]`, fields project/labels/status/statusCategory. */
export function parseJql(jql: string): ParsedJql {
  const [where = "", orderPart] = jql.split(/\s+ORDER\s+BY\s+/i);
  const clauses = where.trim() === "" ? [] : where.split(/\s+AND\s+/i);
  const tests: ((issue: FakeIssue, jira: FakeJira) => boolean)[] = [];
  for (const clause of clauses) {
    const m = /^\s*(\w+)\s*(!=|=)\s*("(?:[^"\\]|\\.)*"|[\w.-]+)\s*$/.exec(clause);
    if (!m) throw new Error(`cannot parse clause '${clause.trim()}'`);
    const [, field = "", op, raw = ""] = m;
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    const negate = op === "!=";
    let test: (issue: FakeIssue, jira: FakeJira) => boolean;
    switch (field.toLowerCase()) {
      case "project":
        test = (issue) => issue.project === value;
        break;
      case "labels":
        test = (issue) => issue.labels.includes(value);
        break;
      case "status":
        test = (issue) => issue.status.toLowerCase() === value.toLowerCase();
        break;
      case "statuscategory": {
        const wanted = Object.entries(categoryNames).find(([key, name]) =>
          [key, name.toLowerCase()].includes(value.toLowerCase()),
        )?.[0];
        if (!wanted) throw new Error(`unknown status category '${value}'`);
        test = (issue, jira) => jira.categoryOf(issue) === wanted;
        break;
      }
      default:
        throw new Error(`field '${field}' is not supported by the fake`);
    }
    tests.push(negate ? (issue, jira) => !test(issue, jira) : test);
  }
  let order: ParsedJql["order"];
  if (orderPart !== undefined) {
    const m = /^\s*(created|updated)(?:\s+(ASC|DESC))?\s*$/i.exec(orderPart);
    if (!m) throw new Error(`cannot order by '${orderPart.trim()}'`);
    order = {
      field: (m[1] ?? "created").toLowerCase() as "created" | "updated",
      direction: (m[2] ?? "ASC").toUpperCase() as "ASC" | "DESC",
    };
  }
  return { matches: (issue, jira) => tests.every((t) => t(issue, jira)), ...(order && { order }) };
}

const blockTypes = new Set([
  "paragraph",
  "heading",
  "bulletList",
  "orderedList",
  "listItem",
  "codeBlock",
  "blockquote",
  "rule",
]);
const markTypes = new Set(["strong", "em", "code", "strike", "underline", "link"]);

/**
 * Validates an ADF document the way Jira does (the parts we use): the root is exactly
 * `{type:"doc",version:1,content:[…]}`; known node types only; text nodes non-empty; no marks in code
 * blocks; list items start with a paragraph; headings have a level 1–6. Returns the problem or undefined.
 */
export function adfProblem(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return "Operation value must be an Atlassian Document (see the Atlassian Document Format)";
  }
  const root = doc as Record<string, unknown>;
  const extra = Object.keys(root).filter((k) => !["type", "version", "content"].includes(k));
  if (root.type !== "doc" || root.version !== 1 || !Array.isArray(root.content) || extra.length > 0) {
    return "INVALID_INPUT: the root must be {type: doc, version: 1, content: [...]}";
  }
  return nodesProblem(root.content, "content", "block");
}

function nodesProblem(nodes: unknown[], path: string, kind: "block" | "inline" | "code"): string | undefined {
  for (const [i, node] of nodes.entries()) {
    const here = `${path}[${i}]`;
    if (node === null || typeof node !== "object") return `INVALID_INPUT: ${here} is not a node`;
    const n = node as { type?: unknown; text?: unknown; marks?: unknown; content?: unknown; attrs?: unknown };
    if (kind !== "block") {
      if (n.type === "hardBreak" && kind === "inline") continue;
      if (n.type !== "text") return `INVALID_INPUT: ${here} of type ${String(n.type)} is not allowed here`;
      if (typeof n.text !== "string" || n.text.length === 0)
        return `INVALID_INPUT: ${here} is an empty text node`;
      if (n.marks !== undefined) {
        if (kind === "code") return `INVALID_INPUT: ${here} has marks inside a code block`;
        if (!Array.isArray(n.marks)) return `INVALID_INPUT: ${here}.marks must be an array`;
        for (const mark of n.marks as { type?: unknown; attrs?: { href?: unknown } }[]) {
          if (!markTypes.has(String(mark?.type))) return `INVALID_INPUT: ${here} has an unknown mark`;
          if (mark.type === "link" && typeof mark.attrs?.href !== "string") {
            return `INVALID_INPUT: ${here} has a link without href`;
          }
        }
      }
      continue;
    }
    if (typeof n.type !== "string" || !blockTypes.has(n.type)) {
      return `INVALID_INPUT: ${here} has unknown block type ${String(n.type)}`;
    }
    const content = n.content;
    if (content !== undefined && !Array.isArray(content))
      return `INVALID_INPUT: ${here}.content must be an array`;
    const children = (content ?? []) as unknown[];
    switch (n.type) {
      case "paragraph": {
        const p = nodesProblem(children, `${here}.content`, "inline");
        if (p) return p;
        break;
      }
      case "heading": {
        const level = (n.attrs as { level?: unknown } | undefined)?.level;
        if (typeof level !== "number" || level < 1 || level > 6)
          return `INVALID_INPUT: ${here} needs attrs.level 1-6`;
        const p = nodesProblem(children, `${here}.content`, "inline");
        if (p) return p;
        break;
      }
      case "codeBlock": {
        const p = nodesProblem(children, `${here}.content`, "code");
        if (p) return p;
        break;
      }
      case "bulletList":
      case "orderedList": {
        if (children.length === 0) return `INVALID_INPUT: ${here} has no items`;
        if (children.some((c) => (c as { type?: unknown })?.type !== "listItem")) {
          return `INVALID_INPUT: ${here} may only contain listItem nodes`;
        }
        const p = nodesProblem(children, `${here}.content`, "block");
        if (p) return p;
        break;
      }
      case "listItem": {
        if ((children[0] as { type?: unknown } | undefined)?.type !== "paragraph") {
          return `INVALID_INPUT: ${here} must start with a paragraph`;
        }
        const p = nodesProblem(children, `${here}.content`, "block");
        if (p) return p;
        break;
      }
      case "blockquote": {
        const p = nodesProblem(children, `${here}.content`, "block");
        if (p) return p;
        break;
      }
      case "rule":
        if (children.length > 0) return `INVALID_INPUT: ${here} (rule) takes no content`;
        break;
    }
  }
  return undefined;
}

/** A Jira webhook delivery as Jira sends it (providers.md §2.7). */
export interface JiraWebhookDelivery {
  readonly payload: unknown;
  /** `X-Atlassian-Webhook-Identifier`: unique per delivery, stable across retries. */
  readonly identifier: string;
  /** Signs with `X-Hub-Signature: sha256=<hex>` when set. */
  readonly secret?: string;
  /** Adds `X-Atlassian-Webhook-Retry`. */
  readonly retry?: number;
  /** Overrides the signature (bad-signature tests). */
  readonly signature?: string;
}

/** Posts a webhook to `url` the way Jira does; returns status and parsed body. */
export async function postJiraWebhook(
  url: string,
  delivery: JiraWebhookDelivery,
): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify(delivery.payload);
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "x-atlassian-webhook-identifier": delivery.identifier,
    "x-atlassian-webhook-flow": "Primary",
  };
  if (delivery.retry !== undefined) headers["x-atlassian-webhook-retry"] = String(delivery.retry);
  if (delivery.signature !== undefined) headers["x-hub-signature"] = delivery.signature;
  else if (delivery.secret !== undefined) {
    headers["x-hub-signature"] = `sha256=${createHmac("sha256", delivery.secret).update(body).digest("hex")}`;
  }
  const response = await fetch(url, { method: "POST", headers, body });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}
