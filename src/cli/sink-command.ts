/**
 * `zen sink`: a local receiver for trying deliveries out. Prints each request and checks its
 * Standard Webhooks signature with the off-the-shelf `standardwebhooks` library — the same check any
 * receiver of ours would do.
 */
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

export interface SinkOptions {
  readonly port: number;
  readonly host: string;
  /** Standard Webhooks secret (`whsec_…`); without it signatures are shown but not checked. */
  readonly secret: string | undefined;
  /** Status to answer with (e.g. 503 to watch retries). */
  readonly status: number;
  readonly write: (line: string) => void;
}

export function runSink(options: SinkOptions): Promise<() => Promise<void>> {
  const verifier = options.secret ? new Webhook(options.secret) : undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let verdict = "not checked (no secret)";
      if (verifier) {
        try {
          verifier.verify(body, {
            "webhook-id": String(request.headers["webhook-id"] ?? ""),
            "webhook-timestamp": String(request.headers["webhook-timestamp"] ?? ""),
            "webhook-signature": String(request.headers["webhook-signature"] ?? ""),
          });
          verdict = "valid";
        } catch (err) {
          verdict = `INVALID (${(err as Error).message})`;
        }
      }
      options.write(
        [
          `${new Date().toISOString()} ${request.method} ${request.url} → ${options.status}`,
          `  webhook-id: ${request.headers["webhook-id"] ?? "(none)"}`,
          `  signature:  ${verdict}`,
          `  body:       ${body.length > 2000 ? `${body.slice(0, 2000)}…` : body}`,
        ].join("\n"),
      );
      response.writeHead(options.status, { "content-type": "application/json" });
      response.end(options.status < 300 ? '{"ok":true}' : '{"ok":false}');
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      options.write(
        `sink listening on http://${options.host}:${options.port}/ (answering ${options.status})`,
      );
      resolve(() => new Promise<void>((done) => server.close(() => done())));
    });
  });
}
