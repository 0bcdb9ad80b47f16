/**
 * A fake Slack Web API for tests: a real `node:http` server on 127.0.0.1, port 0, that behaves as
 * documented in providers.md §1.5–§1.9 (the "fake Slack server checklist"):
 *
 * - `url` is the API base ending in `/api/` (what `SLACK_API_URL` is set to); methods are
 *   `POST {url}{method}` (GET with a query string works too, as on Slack);
 * - bodies as JSON (`Authorization: Bearer` required: a JSON body's `token` field is ignored, as on
 *   Slack) or form-urlencoded as `@slack/web-api` sends them (nested values are JSON strings; the token
 *   as a Bearer header or a `token` field);
 * - logical errors are HTTP 200 `{ok:false,error}`: `not_authed`, `invalid_auth`, per-token errors
 *   (`token_revoked`, …), `channel_not_found`, `is_archived`, `not_in_channel`, `no_text`,
 *   `msg_too_long`, `invalid_blocks`, `invalid_blocks_format`, `message_not_found`, `user_not_found`,
 *   `no_such_subteam`, `unknown_method`, `not_allowed_token_type`;
 * - throttling is HTTP 429 + `Retry-After: <seconds>` + `{"ok":false,"error":"ratelimited"}`, scripted
 *   (`failNext`) or from a per-channel `chat.postMessage` budget (`rateLimit`);
 * - methods `chat.postMessage`, `chat.update`, `users.info`, `usergroups.users.list`, `auth.test`,
 *   `apps.connections.open` (answers `socketModeUrl`, settable by Socket Mode tests);
 * - a `response_url` endpoint (`responseUrl()`): JSON posts recorded, at most 5 per URL within
 *   30 minutes (then 404 `used_url` / `expired_url`; the clock is injectable);
 * - every call recorded (method, parsed args, token and how it came), messages stored per channel with
 *   `ts` (`chat.update` edits them, replies keep `thread_ts`); `delayMs` slows answers.
 *
 * Tokens are assembled at run time so that no literal token prefix sits in this source file (the
 * pre-commit scanner flags them; they are fake anyway).
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A fake bot token (`xoxb-…`), assembled so no literal token sits in the source. */
export const fakeBotToken = ["xoxb", "000000000000", "fake", "bot", "token"].join("-");
/** A fake app-level token (`xapp-…`) for `apps.connections.open`. */
export const fakeAppToken = ["xapp", "1", "A000FAKE", "fake", "app", "token"].join("-");

/** The Web API methods the fake implements. */
export type FakeSlackMethod =
  | "chat.postMessage"
  | "chat.update"
  | "users.info"
  | "usergroups.users.list"
  | "auth.test"
  | "apps.connections.open";

const knownMethods: ReadonlySet<string> = new Set<FakeSlackMethod>([
  "chat.postMessage",
  "chat.update",
  "users.info",
  "usergroups.users.list",
  "auth.test",
  "apps.connections.open",
]);

export interface FakeChannel {
  readonly id: string;
  /** Posting answers `is_archived`. */
  readonly archived?: boolean;
  /** `false`: the bot is not a member; posting answers `not_in_channel`. Default true. */
  readonly member?: boolean;
}

export interface FakeUser {
  readonly id: string;
  readonly name?: string;
  readonly email?: string;
}

export interface FakeSlackOptions {
  /** Valid bot tokens. Default: [fakeBotToken]. */
  readonly tokens?: readonly string[];
  /** Valid app-level tokens (for `apps.connections.open`). Default: [fakeAppToken]. */
  readonly appTokens?: readonly string[];
  /** Tokens that Slack knows but refuses, with the error (`token_revoked`, `account_inactive`, …). */
  readonly deadTokens?: Readonly<Record<string, string>>;
  /** Channels the bot can see; ids or objects. Default: one channel, `C0123456789`. */
  readonly channels?: readonly (string | FakeChannel)[];
  readonly users?: readonly FakeUser[];
  /** User group id (`S…`) → member user ids. */
  readonly userGroups?: Readonly<Record<string, readonly string[]>>;
  /** Per-channel `chat.postMessage` budget: more than `perSecond` posts within 1 s → 429. */
  readonly rateLimit?: { readonly perSecond: number; readonly retryAfterSeconds: number };
  /** Clock (ms since epoch) for `response_url` expiry and rate-limit windows. Default Date.now. */
  readonly now?: () => number;
  readonly teamId?: string;
  readonly botUserId?: string;
}

export interface FakeFailure {
  /** HTTP status; default 200 when `error` is set, else 500. */
  readonly status?: 200 | 429 | 500 | 502 | 503;
  /** `{ok:false,error}` body; default `ratelimited` for 429, none (an HTML page) for 5xx. */
  readonly error?: string;
  /** `Retry-After` on a 429; default 1; `null` sends no header (a malformed 429). */
  readonly retryAfterSeconds?: number | null;
  /** How many calls fail this way; default 1. */
  readonly count?: number;
  /** Do the work (post the message), then answer with the failure: the answer is lost. */
  readonly afterCommit?: boolean;
  /** Destroy the connection without answering (a network error). */
  readonly drop?: boolean;
}

export interface FakeSlackCall {
  readonly method: string;
  /** The arguments as the method saw them (form values that were JSON strings stay strings). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly contentType: string | undefined;
  /** The token used, from the header or the form `token` field; undefined when none. */
  readonly token: string | undefined;
  readonly tokenFrom: "header" | "body" | undefined;
  /** HTTP status answered and Slack's `error` code when `ok:false`. */
  status: number;
  error: string | undefined;
  /** Real ms since epoch when the request arrived. */
  readonly at: number;
}

export interface FakeMessage {
  readonly channel: string;
  readonly ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  /** Set on replies: the parent's ts. */
  readonly threadTs: string | undefined;
  /** How many times `chat.update` changed it. */
  edits: number;
}

export interface FakeResponsePost {
  readonly body: unknown;
  readonly at: number;
  /** What the fake answered. */
  readonly status: number;
}

interface ResponseUrlState {
  readonly createdAt: number;
  readonly posts: FakeResponsePost[];
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** How long a `response_url` accepts posts, and how many (providers.md §1.3). */
export const responseUrlLimits = { ttlMs: 30 * 60_000, maxPosts: 5 } as const;

const maxTextChars = 40_000;
const maxBlocks = 50;

const ok = (body: Record<string, unknown> = {}): Answer => ({ status: 200, body: { ok: true, ...body } });
const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
});

export class FakeSlack {
  /** API base ending in `/api/`: set `SLACK_API_URL` to this. */
  readonly url: string;
  readonly origin: string;
  readonly calls: FakeSlackCall[] = [];
  /** Delays every answer by this many real milliseconds (timing tests). */
  delayMs = 0;
  /** What `apps.connections.open` answers as `url`; unset → `{ok:false,error:"internal_error"}`. */
  socketModeUrl: string | undefined;
  /** Settable `response_url` lifetime (default 30 min). */
  responseUrlTtlMs: number = responseUrlLimits.ttlMs;
  private readonly messagesByChannel = new Map<string, FakeMessage[]>();
  private readonly failures = new Map<string, FakeFailure & { remaining: number }>();
  private readonly channels = new Map<string, FakeChannel>();
  private readonly users = new Map<string, FakeUser>();
  private readonly userGroups = new Map<string, readonly string[]>();
  private readonly responseUrls = new Map<string, ResponseUrlState>();
  private readonly postTimes = new Map<string, number[]>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  private lastTsMicros = 0;
  private nextResponseId = 1;

  private constructor(
    private readonly server: Server,
    origin: string,
    private readonly options: FakeSlackOptions,
  ) {
    this.origin = origin;
    this.url = `${origin}/api/`;
    this.now = options.now ?? Date.now;
    for (const c of options.channels ?? ["C0123456789"]) {
      const channel = typeof c === "string" ? { id: c } : c;
      this.channels.set(channel.id, channel);
    }
    for (const u of options.users ?? []) this.users.set(u.id, u);
    for (const [id, members] of Object.entries(options.userGroups ?? {})) this.userGroups.set(id, members);
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const slack = new FakeSlack(server, `http://127.0.0.1:${port}`, options);
    server.on("connection", (socket) => {
      slack.sockets.add(socket);
      socket.on("close", () => slack.sockets.delete(socket));
    });
    server.on("request", (req, res) => {
      slack.handle(req, res).catch((err: unknown) => {
        if (res.destroyed) return;
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`fake Slack crashed: ${String(err)}`);
      });
    });
    return slack;
  }

  /** The next `count` calls of `method` fail as scripted (replaces an earlier script for it). */
  failNext(method: FakeSlackMethod | "response_url", failure: FakeFailure = {}): this {
    this.failures.set(method, { ...failure, remaining: failure.count ?? 1 });
    return this;
  }

  /** Adds (or replaces) a channel. */
  addChannel(channel: string | FakeChannel): this {
    const c = typeof channel === "string" ? { id: channel } : channel;
    this.channels.set(c.id, c);
    return this;
  }

  /** Top-level messages and replies of `channel`, oldest first. */
  messages(channel: string): readonly FakeMessage[] {
    return this.messagesByChannel.get(channel) ?? [];
  }

  /** Every message in every channel, oldest first per channel. */
  allMessages(): readonly FakeMessage[] {
    return [...this.messagesByChannel.values()].flat();
  }

  /** Replies under the message `ts` in `channel`. */
  replies(channel: string, ts: string): readonly FakeMessage[] {
    return this.messages(channel).filter((m) => m.threadTs === ts);
  }

  /** Calls of one method. */
  callsOf(method: string): readonly FakeSlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Mints a `response_url` on the fake (`${origin}/response/<id>`). */
  responseUrl(): string {
    const id = String(this.nextResponseId++);
    this.responseUrls.set(id, { createdAt: this.now(), posts: [] });
    return `${this.origin}/response/${id}`;
  }

  /** The JSON bodies posted to a `response_url` (accepted or not), oldest first. */
  responsePosts(url: string): readonly FakeResponsePost[] {
    return this.responseUrls.get(responseId(url))?.posts ?? [];
  }

  /** The accepted JSON bodies posted to a `response_url`, oldest first. */
  responses(url: string): readonly unknown[] {
    return this.responsePosts(url)
      .filter((p) => p.status === 200)
      .map((p) => p.body);
  }

  /** Forgets calls, messages, response URLs, failures and delays. */
  reset(): this {
    this.calls.length = 0;
    this.messagesByChannel.clear();
    this.failures.clear();
    this.responseUrls.clear();
    this.postTimes.clear();
    this.delayMs = 0;
    return this;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.origin);
    const contentType = req.headers["content-type"];

    if (url.pathname.startsWith("/response/")) {
      await this.answer(res, this.responsePost(url.pathname, req.method ?? "GET", contentType, raw));
      return;
    }
    const method = url.pathname.startsWith("/api/") ? url.pathname.slice("/api/".length) : "";
    const parsed = parseArgs(contentType, raw, url);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const formToken = parsed.json ? undefined : parsed.args.token;
    const token = bearer ?? (typeof formToken === "string" && formToken !== "" ? formToken : undefined);
    const { token: _omitted, ...args } = parsed.args;
    const call: FakeSlackCall = {
      method,
      args,
      contentType,
      token,
      tokenFrom: bearer !== undefined ? "header" : token !== undefined ? "body" : undefined,
      status: 200,
      error: undefined,
      at: Date.now(),
    };
    this.calls.push(call);

    const failure = this.takeFailure(method);
    if (failure?.drop) {
      res.socket?.destroy();
      return;
    }
    let answer: Answer;
    if (parsed.problem) answer = fail(parsed.problem);
    else if (!knownMethods.has(method))
      answer = { status: 404, body: { ok: false, error: "unknown_method" } };
    else if (failure && !failure.afterCommit) answer = failureAnswer(failure);
    else {
      answer = this.authorize(method as FakeSlackMethod, token) ?? this.run(method as FakeSlackMethod, args);
      if (failure) answer = failureAnswer(failure);
    }
    if (parsed.json && !/charset=utf-8/i.test(contentType ?? "") && isOk(answer)) {
      // Slack accepts a JSON body without a charset, with a warning (providers.md §1.5).
      answer = {
        ...answer,
        body: {
          ...(answer.body as object),
          warning: "missing_charset",
          response_metadata: { warnings: ["missing_charset"] },
        },
      };
    }
    call.status = answer.status;
    const body = answer.body as { ok?: unknown; error?: unknown } | undefined;
    call.error = body?.ok === false && typeof body.error === "string" ? body.error : undefined;
    await this.answer(res, answer);
  }

  private async answer(res: ServerResponse, answer: Answer): Promise<void> {
    if (this.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, this.delayMs);
        this.timers.add(timer);
      });
    }
    if (res.destroyed) return;
    const payload = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      "content-type": typeof answer.body === "string" ? "text/html" : "application/json; charset=utf-8",
      ...answer.headers,
    });
    res.end(payload);
  }

  private takeFailure(method: string): FakeFailure | undefined {
    const failure = this.failures.get(method);
    if (!failure) return undefined;
    failure.remaining--;
    if (failure.remaining <= 0) this.failures.delete(method);
    return failure;
  }

  private authorize(method: FakeSlackMethod, token: string | undefined): Answer | undefined {
    if (token === undefined) return fail("not_authed");
    const dead = this.options.deadTokens?.[token];
    if (dead !== undefined) return fail(dead);
    const bots = this.options.tokens ?? [fakeBotToken];
    const apps = this.options.appTokens ?? [fakeAppToken];
    if (method === "apps.connections.open") {
      if (apps.includes(token)) return undefined;
      return bots.includes(token) ? fail("not_allowed_token_type") : fail("invalid_auth");
    }
    if (bots.includes(token)) return undefined;
    return apps.includes(token) ? fail("not_allowed_token_type") : fail("invalid_auth");
  }

  private run(method: FakeSlackMethod, args: Record<string, unknown>): Answer {
    switch (method) {
      case "chat.postMessage":
        return this.postMessage(args);
      case "chat.update":
        return this.update(args);
      case "users.info": {
        const user = this.users.get(String(args.user ?? ""));
        if (!user) return fail("user_not_found");
        return ok({
          user: {
            id: user.id,
            team_id: this.teamId(),
            name: user.name ?? user.id.toLowerCase(),
            real_name: user.name ?? user.id,
            deleted: false,
            is_bot: false,
            profile: { ...(user.email === undefined ? {} : { email: user.email }) },
          },
        });
      }
      case "usergroups.users.list": {
        const members = this.userGroups.get(String(args.usergroup ?? ""));
        return members ? ok({ users: [...members] }) : fail("no_such_subteam");
      }
      case "auth.test":
        return ok({
          url: "https://fake-workspace.slack.com/",
          team: "Fake Workspace",
          user: "zen",
          team_id: this.teamId(),
          user_id: this.options.botUserId ?? "U0FAKEBOT",
          bot_id: "B0FAKEBOT",
          is_enterprise_install: false,
        });
      case "apps.connections.open":
        return this.socketModeUrl === undefined ? fail("internal_error") : ok({ url: this.socketModeUrl });
      default: {
        const _exhaustive: never = method;
        return _exhaustive;
      }
    }
  }

  private teamId(): string {
    return this.options.teamId ?? "T0FAKETEAM";
  }

  /** Shared by postMessage and update: channel state, then content (text/blocks) problems. */
  private checkChannel(args: Record<string, unknown>): Answer | FakeChannel {
    const channel = this.channels.get(String(args.channel ?? ""));
    if (!channel) return fail("channel_not_found");
    if (channel.archived) return fail("is_archived");
    if (channel.member === false) return fail("not_in_channel");
    return channel;
  }

  private postMessage(args: Record<string, unknown>): Answer {
    const channel = this.checkChannel(args);
    if ("status" in channel) return channel;
    const content = readContent(args);
    if ("status" in content) return content;
    if (content.text === undefined && content.blocks === undefined && args.attachments === undefined) {
      return fail("no_text");
    }
    const limited = this.rateLimited(channel.id);
    if (limited) return limited;
    const threadTs = typeof args.thread_ts === "string" && args.thread_ts !== "" ? args.thread_ts : undefined;
    const message: FakeMessage = {
      channel: channel.id,
      ts: this.nextTs(),
      text: content.text,
      blocks: content.blocks,
      threadTs,
      edits: 0,
    };
    const list = this.messagesByChannel.get(channel.id) ?? [];
    list.push(message);
    this.messagesByChannel.set(channel.id, list);
    return ok({ channel: channel.id, ts: message.ts, message: messageJson(message) });
  }

  private update(args: Record<string, unknown>): Answer {
    const channel = this.checkChannel(args);
    if ("status" in channel) return channel;
    const message = this.messages(channel.id).find((m) => m.ts === String(args.ts ?? ""));
    if (!message) return fail("message_not_found");
    const content = readContent(args);
    if ("status" in content) return content;
    if (content.text === undefined && content.blocks === undefined) return fail("no_text");
    if (content.text !== undefined) message.text = content.text;
    if (content.blocks !== undefined) message.blocks = content.blocks;
    message.edits++;
    return ok({ channel: channel.id, ts: message.ts, text: message.text, message: messageJson(message) });
  }

  private rateLimited(channel: string): Answer | undefined {
    const limit = this.options.rateLimit;
    if (!limit) return undefined;
    const now = this.now();
    const recent = (this.postTimes.get(channel) ?? []).filter((t) => t > now - 1000);
    if (recent.length >= limit.perSecond) {
      this.postTimes.set(channel, recent);
      return {
        status: 429,
        body: { ok: false, error: "ratelimited" },
        headers: { "retry-after": String(limit.retryAfterSeconds) },
      };
    }
    recent.push(now);
    this.postTimes.set(channel, recent);
    return undefined;
  }

  /** Slack's `ts`: seconds with a 6-digit fraction, unique and increasing per workspace. */
  private nextTs(): string {
    const micros = Math.max(this.now() * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
  }

  private responsePost(path: string, method: string, contentType: string | undefined, raw: string): Answer {
    const state = this.responseUrls.get(path.slice("/response/".length));
    if (!state) return { status: 404, body: "no_service" };
    const at = this.now();
    let answer: Answer;
    let body: unknown = raw;
    const failure = this.takeFailure("response_url");
    if (method !== "POST") answer = { status: 405, body: "invalid_method" };
    else if (!/^application\/json/i.test(contentType ?? ""))
      answer = { status: 400, body: "invalid_payload" };
    else {
      try {
        body = JSON.parse(raw) as unknown;
        const accepted = state.posts.filter((p) => p.status === 200).length;
        if (at - state.createdAt > this.responseUrlTtlMs) answer = { status: 404, body: "expired_url" };
        else if (accepted >= responseUrlLimits.maxPosts) answer = { status: 404, body: "used_url" };
        else answer = { status: 200, body: "ok" };
      } catch {
        answer = { status: 400, body: "invalid_payload" };
      }
    }
    if (failure) answer = failureAnswer(failure);
    state.posts.push({ body, at, status: answer.status });
    return answer;
  }
}

function responseId(url: string): string {
  const path = new URL(url).pathname;
  return path.startsWith("/response/") ? path.slice("/response/".length) : "";
}

function isOk(answer: Answer): boolean {
  return answer.status === 200 && (answer.body as { ok?: unknown } | undefined)?.ok === true;
}

function failureAnswer(failure: FakeFailure): Answer {
  const status = failure.status ?? (failure.error === undefined ? 500 : 200);
  if (status === 429) {
    const retryAfter = failure.retryAfterSeconds === undefined ? 1 : failure.retryAfterSeconds;
    return {
      status,
      body: { ok: false, error: failure.error ?? "ratelimited" },
      headers: retryAfter === null ? {} : { "retry-after": String(retryAfter) },
    };
  }
  if (failure.error === "missing_scope") {
    return {
      status,
      body: { ok: false, error: "missing_scope", needed: "chat:write", provided: "users:read" },
    };
  }
  if (failure.error !== undefined) return { status, body: { ok: false, error: failure.error } };
  return { status, body: `<html><body>${status} Service Unavailable</body></html>` };
}

/**
 * The method arguments from a JSON body, a form body, or the query string. Form values that hold
 * JSON (`blocks`) stay strings here: each method decodes what it needs, as Slack does.
 */
function parseArgs(
  contentType: string | undefined,
  raw: string,
  url: URL,
): { args: Record<string, unknown>; json: boolean; problem?: string } {
  const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const type = (contentType ?? "").toLowerCase();
  if (raw === "") return { args, json: false };
  if (type.startsWith("application/json")) {
    try {
      const body = JSON.parse(raw) as unknown;
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        return { args, json: true, problem: "invalid_json" };
      }
      return { args: { ...args, ...(body as Record<string, unknown>) }, json: true };
    } catch {
      return { args, json: true, problem: "invalid_json" };
    }
  }
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return { args: { ...args, ...Object.fromEntries(new URLSearchParams(raw)) }, json: false };
  }
  return { args, json: false, problem: "invalid_form_data" };
}

/** `text` and `blocks` (an array, or a JSON string of one as form bodies carry it), validated. */
function readContent(args: Record<string, unknown>): Answer | { text?: string; blocks?: unknown[] } {
  const text = typeof args.text === "string" && args.text !== "" ? args.text : undefined;
  if (text !== undefined && text.length > maxTextChars) return fail("msg_too_long");
  let blocks: unknown = args.blocks;
  if (typeof blocks === "string") {
    try {
      blocks = JSON.parse(blocks) as unknown;
    } catch {
      return fail("invalid_blocks_format");
    }
  }
  if (blocks === undefined) return text === undefined ? {} : { text };
  if (!Array.isArray(blocks)) return fail("invalid_blocks_format");
  const problem = blocksProblem(blocks);
  if (problem) return fail("invalid_blocks", { errors: [problem] });
  return { ...(text === undefined ? {} : { text }), blocks };
}

/** Block Kit limits the fake checks (providers.md §1.7); Slack checks more. */
function blocksProblem(blocks: unknown[]): string | undefined {
  if (blocks.length > maxBlocks) return `no more than ${maxBlocks} items allowed [json-pointer:/blocks]`;
  for (const [i, block] of blocks.entries()) {
    const at = `[json-pointer:/blocks/${i}]`;
    if (block === null || typeof block !== "object") return `must be an object ${at}`;
    const b = block as { type?: unknown; text?: { type?: unknown; text?: unknown }; fields?: unknown };
    switch (b.type) {
      case "header":
        if (b.text?.type !== "plain_text" || typeof b.text.text !== "string") return `invalid header ${at}`;
        if (b.text.text.length === 0 || b.text.text.length > 150)
          return `must be 1-150 characters ${at}/text`;
        break;
      case "section": {
        const fields = Array.isArray(b.fields) ? (b.fields as { text?: unknown }[]) : undefined;
        if (b.text === undefined && fields === undefined) return `section needs text or fields ${at}`;
        if (b.text !== undefined) {
          if (typeof b.text.text !== "string" || b.text.text.length === 0 || b.text.text.length > 3000) {
            return `must be 1-3000 characters ${at}/text`;
          }
        }
        if (fields && (fields.length > 10 || fields.some((f) => String(f?.text ?? "").length > 2000))) {
          return `at most 10 fields of 2000 characters ${at}/fields`;
        }
        break;
      }
      case "context":
      case "actions":
      case "divider":
      case "image":
      case "rich_text":
        break;
      default:
        return `unknown block type ${String(b.type)} ${at}`;
    }
  }
  return undefined;
}

function messageJson(message: FakeMessage) {
  return {
    type: "message",
    subtype: "bot_message",
    bot_id: "B0FAKEBOT",
    ts: message.ts,
    ...(message.text === undefined ? {} : { text: message.text }),
    ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
    ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
  };
}
