/**
 * A fake Slack Socket Mode server for tests, speaking the documented protocol: the client gets this
 * server's `ws://` URL from `apps.connections.open` (the fake Web API, fake-slack.ts: set its
 * `socketModeUrl` to {@link FakeSlackSocket.url}), connects, receives `hello`, then envelopes
 * `{envelope_id, type, payload, accepts_response_payload, retry_attempt, retry_reason}`, and answers
 * each with an ack `{envelope_id, payload?}`, which is recorded.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

export interface FakeEnvelope {
  /** Default: a fresh id. */
  readonly envelope_id?: string;
  readonly type: "events_api" | "slash_commands" | "interactive" | string;
  readonly payload: unknown;
  readonly accepts_response_payload?: boolean;
  readonly retry_attempt?: number;
  readonly retry_reason?: string;
}

export interface FakeAck {
  readonly envelope_id: string;
  /** The ack's payload (the client sends `{}` for a bare ack). */
  readonly payload: unknown;
  readonly receivedAt: number;
}

export class FakeSlackSocket {
  readonly acks: FakeAck[] = [];
  /** Sockets ever opened (a reconnect opens another). */
  connectionCount = 0;
  private readonly sockets = new Set<WebSocket>();
  private readonly waiters: Array<() => void> = [];
  private nextId = 1;

  private constructor(
    private readonly server: WebSocketServer,
    /** What `apps.connections.open` should answer as `url`. */
    readonly url: string,
  ) {}

  static async start(): Promise<FakeSlackSocket> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSlackSocket(server, `ws://127.0.0.1:${port}/link/?ticket=fake-ticket`);
    server.on("connection", (socket) => {
      fake.connectionCount++;
      fake.sockets.add(socket);
      socket.on("close", () => fake.sockets.delete(socket));
      socket.on("message", (data) => {
        const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (typeof message.envelope_id !== "string") return;
        fake.acks.push({
          envelope_id: message.envelope_id,
          payload: message.payload,
          receivedAt: Date.now(),
        });
        fake.notify();
      });
      socket.send(
        JSON.stringify({
          type: "hello",
          num_connections: 1,
          debug_info: { host: "fake-slack-socket", approximate_connection_time: 18060 },
          connection_info: { app_id: "A000FAKE" },
        }),
      );
      fake.notify();
    });
    return fake;
  }

  /** Clients connected right now. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Resolves once a client is connected (it has been sent `hello`). */
  async waitForConnection(timeoutMs = 5_000): Promise<void> {
    await this.until(() => this.sockets.size > 0, timeoutMs, "a Socket Mode connection");
  }

  /** Sends an envelope to every connected client; returns its envelope id. */
  send(envelope: FakeEnvelope): string {
    const id = envelope.envelope_id ?? `env-${this.nextId++}`;
    const message = JSON.stringify({
      envelope_id: id,
      type: envelope.type,
      payload: envelope.payload,
      accepts_response_payload: envelope.accepts_response_payload ?? envelope.type !== "events_api",
      ...(envelope.retry_attempt !== undefined && { retry_attempt: envelope.retry_attempt }),
      ...(envelope.retry_reason !== undefined && { retry_reason: envelope.retry_reason }),
    });
    if (this.sockets.size === 0) throw new Error("no Socket Mode client is connected");
    for (const socket of this.sockets) socket.send(message);
    return id;
  }

  /** The ack of `envelopeId`, once it arrives. */
  async waitForAck(envelopeId: string, timeoutMs = 5_000): Promise<FakeAck> {
    await this.until(() => this.ackOf(envelopeId) !== undefined, timeoutMs, `the ack of ${envelopeId}`);
    return this.ackOf(envelopeId) as FakeAck;
  }

  ackOf(envelopeId: string): FakeAck | undefined {
    return this.acks.find((ack) => ack.envelope_id === envelopeId);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
