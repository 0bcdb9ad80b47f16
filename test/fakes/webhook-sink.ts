/**
 * A real HTTP receiver for tests: `node:http` on 127.0.0.1, port 0. Records every request (headers
 * and exact raw body) and answers from a script: status, headers (e.g. Retry-After), body, delays,
 * a hang, a connection reset, or an endless body. Used by the destination and worker tests and by
 * end-to-end tests.
 */
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** How the sink answers one request. Fields combine: delay first, then the chosen behaviour. */
export interface SinkResponse {
  /** Default 200. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default "ok" for 2xx, else `error <status>`. */
  readonly body?: string;
  /** Wait this long (real ms) before answering. */
  readonly delayMs?: number;
  /** Never answer (until the client gives up or the sink closes). */
  readonly hang?: boolean;
  /** Destroy the socket without a response (the client sees a reset / "other side closed"). */
  readonly reset?: boolean;
  /**
   * After the headers, stream this many body bytes (Infinity: until the client disconnects),
   * honouring back-pressure. `body` is ignored.
   */
  readonly streamBytes?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
  /** `rawBody` as UTF-8. */
  readonly body: string;
  /** Real ms since epoch. */
  readonly receivedAt: number;
  /** Index of this request (0-based). */
  readonly index: number;
}

export interface SinkStartOptions {
  /** Answer used when the script is empty. Default `{ status: 200 }`. */
  readonly fallback?: SinkResponse;
  /** Path in `url`. Default `/hook`. */
  readonly path?: string;
}

export class WebhookSink {
  readonly requests: RecordedRequest[] = [];
  /** Bytes written by `streamBytes` responses, per request index. */
  readonly streamedBytes = new Map<number, number>();
  private readonly script: SinkResponse[] = [];
  private fallback: SinkResponse;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    fallback: SinkResponse,
  ) {
    this.fallback = fallback;
  }

  static async start(options: SinkStartOptions = {}): Promise<WebhookSink> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const sink = new WebhookSink(
      server,
      `http://127.0.0.1:${port}${options.path ?? "/hook"}`,
      options.fallback ?? { status: 200 },
    );
    server.on("connection", (socket) => {
      sink.sockets.add(socket);
      socket.on("close", () => sink.sockets.delete(socket));
    });
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const rawBody = Buffer.concat(chunks);
        const recorded: RecordedRequest = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          rawBody,
          body: rawBody.toString("utf8"),
          receivedAt: Date.now(),
          index: sink.requests.length,
        };
        sink.requests.push(recorded);
        sink.notify();
        const response = sink.script.shift() ?? sink.fallback;
        void sink.answer(recorded.index, res, response);
      });
    });
    return sink;
  }

  /** Queues answers for the next requests, in order. */
  respond(...responses: SinkResponse[]): this {
    this.script.push(...responses);
    return this;
  }

  /** Sets the answer used once the script is empty. */
  setFallback(response: SinkResponse): this {
    this.fallback = response;
    return this;
  }

  /** Forgets recorded requests and unused scripted answers; the fallback goes back to `{ status: 200 }`. */
  reset(): this {
    this.requests.length = 0;
    this.streamedBytes.clear();
    this.script.length = 0;
    this.fallback = { status: 200 };
    return this;
  }

  /** Resolves once at least `count` requests arrived (rejects after `timeoutMs` real ms). */
  waitForRequests(count: number, timeoutMs = 5_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`sink saw ${this.requests.length} of ${count} requests`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Stops listening and destroys every open connection, hanging ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private notify(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (waiter && this.requests.length >= waiter.count) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private async answer(index: number, res: ServerResponse, response: SinkResponse): Promise<void> {
    if (response.delayMs !== undefined && response.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, response.delayMs));
    }
    if (res.destroyed) return;
    if (response.reset) {
      res.socket?.destroy();
      return;
    }
    if (response.hang) return;
    const status = response.status ?? 200;
    if (response.streamBytes !== undefined) {
      res.writeHead(status, { "content-type": "application/octet-stream", ...response.headers });
      await this.stream(index, res, response.streamBytes);
      return;
    }
    const body = response.body ?? (status >= 200 && status <= 299 ? "ok" : `error ${status}`);
    res.writeHead(status, { "content-type": "text/plain", ...response.headers });
    res.end(body);
  }

  private async stream(index: number, res: ServerResponse, total: number): Promise<void> {
    const chunk = Buffer.alloc(16 * 1024, "z");
    let written = 0;
    while (written < total && !res.destroyed) {
      const size = Math.min(chunk.length, total - written);
      written += size;
      this.streamedBytes.set(index, written);
      if (!res.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
        // Back-pressure: wait until the client reads, or stop when it hangs up.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    if (!res.destroyed) res.end();
  }
}
