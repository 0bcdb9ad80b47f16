/**
 * Request builders for end-to-end intake tests: correctly signed requests for every preset (through
 * the production `signRequest`, so tests and `zen sign` agree on what "correctly signed" means), and
 * raw-socket sends for requests a client library refuses to produce (doubled headers, broken framing,
 * header floods, bad Content-Length, unnormalized paths).
 */
import { connect } from "node:net";
import { signRequest } from "../../src/intake/verify/sign-request.ts";
import type { SourceProfile } from "../../src/intake/verify/spec.ts";

/** Header list in wire order; a name may repeat (that is the point of some cases). */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

export interface RawRequest {
  readonly method?: string;
  /** Sent verbatim on the request line: no normalization, no encoding. */
  readonly path: string;
  readonly headers?: HeaderList;
  readonly body?: Buffer | string;
  /**
   * `auto` (default): `Content-Length` from the body when there is one. `none`: no framing header is
   * added (pass your own `Content-Length` / `Transfer-Encoding` in `headers`).
   */
  readonly framing?: "auto" | "none";
}

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Bytes of an HTTP/1.1 request; `Host` and `Connection: close` are added unless given. */
export function encodeRequest(origin: string, request: RawRequest): Buffer {
  const { host } = new URL(origin);
  const headers: Array<readonly [string, string]> = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has("host")) headers.unshift(["Host", host]);
  if (!has("connection")) headers.push(["Connection", "close"]);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  if ((request.framing ?? "auto") === "auto" && body !== undefined && !has("content-length")) {
    headers.push(["Content-Length", String(body.length)]);
  }
  const head = `${request.method ?? "POST"} ${request.path} HTTP/1.1\r\n${headers
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body ?? Buffer.alloc(0)]);
}

/** `Transfer-Encoding: chunked` body: one chunk per part, then the terminating zero chunk. */
export function chunkedBody(parts: readonly (Buffer | string)[]): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part);
    out.push(Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n"));
  }
  out.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(out);
}

/**
 * Sends `bytes` on a fresh TCP connection and reads the response until the server closes. A server
 * may answer (413, 431) and close before reading everything: write errors are ignored as long as a
 * response arrived.
 */
export function sendRaw(origin: string, bytes: Buffer, timeoutMs = 5_000): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      if (data.length === 0) {
        reject(error ?? new Error("connection closed without a response"));
        return;
      }
      try {
        resolve(parseResponse(data));
      } catch (parseError) {
        reject(parseError);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // With keep-alive answers we would wait forever; a complete response is enough.
      if (responseComplete(Buffer.concat(chunks))) finish();
    });
    socket.on("end", () => finish());
    socket.on("close", () => finish());
    socket.on("error", (error) => {
      // EPIPE / ECONNRESET after the server answered early: keep what we read.
      if (
        chunks.length === 0 &&
        !["EPIPE", "ECONNRESET"].includes((error as NodeJS.ErrnoException).code ?? "")
      ) {
        finish(error);
      }
    });
    socket.write(bytes);
  });
}

/** Sends a request built by {@link encodeRequest}. */
export function raw(origin: string, request: RawRequest): Promise<RawResponse> {
  return sendRaw(origin, encodeRequest(origin, request));
}

function splitHead(data: Buffer): { head: string; body: Buffer } | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  return { head: data.subarray(0, end).toString("latin1"), body: data.subarray(end + 4) };
}

function headerMap(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

function responseComplete(data: Buffer): boolean {
  const parts = splitHead(data);
  if (!parts) return false;
  const headers = headerMap(parts.head);
  const length = headers["content-length"];
  if (length !== undefined) return parts.body.length >= Number(length);
  if (headers["transfer-encoding"]?.includes("chunked")) return parts.body.includes("0\r\n\r\n");
  return false;
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function parseResponse(data: Buffer): RawResponse {
  const parts = splitHead(data);
  if (!parts) throw new Error(`incomplete response head: ${JSON.stringify(data.toString("latin1"))}`);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(parts.head)?.[1]);
  const headers = headerMap(parts.head);
  const length = headers["content-length"];
  let body = parts.body;
  if (length !== undefined) body = body.subarray(0, Number(length));
  else if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(body);
  return { status, headers, body: body.toString("utf8") };
}

/** What a test needs to sign a request for a source. */
export interface SignOptions {
  /** Epoch ms the signature claims; default `Date.now()`. */
  readonly nowMs?: number;
  /** The provider's delivery/message id (header-carried ids); default derived from body and time. */
  readonly id?: string;
  /** Full public URL (Twilio, `{url}`); intake computes it as `http://<Host><path>`. */
  readonly url?: string;
  readonly contentType?: string;
}

/**
 * Headers (lower-case) that make `body` verify for a source built on `profile` with `secret`, plus a
 * content type (default the profile's first accepted type).
 */
export function signedHeaders(
  profile: SourceProfile,
  secret: string,
  body: Buffer | string,
  options: SignOptions = {},
): Record<string, string> {
  const headers = signRequest(profile, secret, {
    body,
    nowMs: options.nowMs ?? Date.now(),
    ...(options.id !== undefined && { id: options.id }),
    ...(options.url !== undefined && { url: options.url }),
  });
  return { "content-type": options.contentType ?? profile.contentTypes[0] ?? "application/json", ...headers };
}

/** Header record → wire list (for {@link raw}). */
export function headerList(headers: Readonly<Record<string, string>>): Array<readonly [string, string]> {
  return Object.entries(headers);
}
