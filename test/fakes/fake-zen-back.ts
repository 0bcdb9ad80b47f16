/**
 * A fake zen-back for tests: `node:http` on 127.0.0.1, port 0, receiving approval decisions as
 * docs/approvals.md describes them (`POST` to the configured URL, JSON body, `Authorization: Bearer`,
 * `Idempotency-Key`). It checks the bearer token (401 `{"error":"unauthorized"}` otherwise), can be
 * told to fail the next requests (503 with `Retry-After`), and, like a real receiver that honours
 * idempotency keys, accepts each key once: a repeat of an accepted key is answered 200 but not
 * accepted again. Every request is recorded.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ZenBackRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the fake answered. */
  readonly status: number;
}

export interface ZenBackFailure {
  /** Default 503. */
  readonly status?: number;
  /** `Retry-After` seconds; null: none. Default 1. */
  readonly retryAfterSeconds?: number | null;
  /** How many requests fail; default 1. */
  readonly count?: number;
}

export class FakeZenBack {
  readonly requests: ZenBackRequest[] = [];
  /** Decisions accepted, one per idempotency key, in order. */
  readonly accepted: { readonly idempotencyKey: string; readonly decision: unknown }[] = [];
  private failures: (ZenBackFailure & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    /** The URL to set as `ZEN_BACK_URL`. */
    readonly url: string,
    private readonly apiKey: string,
  ) {}

  /** @param apiKey the bearer token zen-back accepts (`ZEN_BACK_APIKEY`). */
  static async start(apiKey: string, path = "/api/approvals/decisions"): Promise<FakeZenBack> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const fake = new FakeZenBack(server, `http://127.0.0.1:${port}${path}`, apiKey);
    server.on("connection", (socket) => {
      fake.sockets.add(socket);
      socket.on("close", () => fake.sockets.delete(socket));
    });
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const answer = fake.answer(req.method ?? "", req.url ?? "", req.headers, body);
        fake.requests.push({
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body,
          status: answer.status,
        });
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    return fake;
  }

  /** The next `count` requests (with a valid token) fail this way. */
  failNext(failure: ZenBackFailure = {}): this {
    this.failures.push({ ...failure, remaining: failure.count ?? 1 });
    return this;
  }

  private answer(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: string,
  ): { status: number; headers?: Record<string, string>; body: unknown } {
    if (method !== "POST" || path !== new URL(this.url).pathname) {
      return { status: 404, body: { error: "not_found" } };
    }
    if (headers.authorization !== `Bearer ${this.apiKey}`)
      return { status: 401, body: { error: "unauthorized" } };
    const failure = this.failures[0];
    if (failure) {
      failure.remaining--;
      if (failure.remaining <= 0) this.failures.shift();
      const retryAfter = failure.retryAfterSeconds === undefined ? 1 : failure.retryAfterSeconds;
      return {
        status: failure.status ?? 503,
        ...(retryAfter !== null && { headers: { "retry-after": String(retryAfter) } }),
        body: { error: "unavailable" },
      };
    }
    const key = headers["idempotency-key"];
    if (typeof key !== "string" || key === "")
      return { status: 400, body: { error: "idempotency_key_missing" } };
    let decision: unknown;
    try {
      decision = JSON.parse(body);
    } catch {
      return { status: 400, body: { error: "malformed_json" } };
    }
    if (this.accepted.some((a) => a.idempotencyKey === key))
      return { status: 200, body: { status: "duplicate" } };
    this.accepted.push({ idempotencyKey: key, decision });
    return { status: 200, body: { status: "accepted" } };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, "close");
  }
}
