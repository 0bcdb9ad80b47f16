/**
 * The bad-input corpus (DESIGN.md §6 "Bad input gets a clear 4xx with a stable code, and nothing is
 * enqueued"): every case is sent over a raw TCP socket (client libraries refuse most of them) to the
 * real service, and must get its exact status and code in the `{"error":{"code","message"}}`
 * envelope, with a message that names no secret. After the whole corpus nothing was stored or
 * delivered, `/ready` is still 200, and a valid request is still accepted.
 *
 * Where a case is about the body, it is correctly signed: otherwise it would stop at verification
 * (401) and never reach the parser it is meant to exercise.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SourceProfile } from "../src/intake/verify/spec.ts";
import { WebhookSink } from "./fakes/webhook-sink.ts";
import {
  chunkedBody,
  type HeaderList,
  headerList,
  type RawRequest,
  type RawResponse,
  raw,
  sendRaw,
  signedHeaders,
} from "./support/requests.ts";
import { countRows, startTestService, type TestService } from "./support/service.ts";
import { waitFor } from "./support/signed.ts";

const tenant = "acme";
const mebibyte = 1_048_576;
const hourMs = 3_600_000;

const secrets = {
  GITHUB_SECRET: "test-secret-not-real-github",
  STRIPE_SECRET: "test-secret-not-real-stripe",
  SW_SECRET: `whsec_${Buffer.from("test-secret-not-real-standard-webhooks").toString("base64")}`,
  SLACK_SECRET: "test-secret-not-real-slack",
  ZOOM_SECRET: "test-secret-not-real-zoom",
  LINEAR_SECRET: "test-secret-not-real-linear",
  TWILIO_SECRET: "test-secret-not-real-twilio",
  GITLAB_SECRET: "test-secret-not-real-gitlab",
  CUSTOM_SECRET: "test-secret-not-real-custom",
  WEBHOOK_SECRET: "test-secret-not-real-generic",
} as const;

/** Source id → (secret, YAML of the rest of the node). */
const sourceNodes: Readonly<Record<string, { secret: keyof typeof secrets; yaml: string }>> = {
  github: { secret: "GITHUB_SECRET", yaml: "preset: github" },
  stripe: { secret: "STRIPE_SECRET", yaml: "preset: stripe" },
  sw: { secret: "SW_SECRET", yaml: "preset: standard-webhooks" },
  slack: { secret: "SLACK_SECRET", yaml: "preset: slack" },
  zoom: { secret: "ZOOM_SECRET", yaml: "preset: zoom" },
  linear: { secret: "LINEAR_SECRET", yaml: "preset: linear" },
  twilio: { secret: "TWILIO_SECRET", yaml: "preset: twilio" },
  gitlab: { secret: "GITLAB_SECRET", yaml: "preset: gitlab" },
  custom: {
    secret: "CUSTOM_SECRET",
    yaml: [
      "verify:",
      "          algorithm: sha512",
      "          signatureHeader: X-Custom-Signature",
      '          signaturePrefix: "v1="',
      "          encoding: base64",
      '          signedContent: "{id}.{timestamp}.{body}"',
      "          timestampHeader: X-Custom-Timestamp",
      "          idHeader: X-Custom-Id",
    ].join("\n"),
  },
};

interface Case {
  readonly name: string;
  readonly send: () => Promise<RawResponse>;
  readonly expectStatus: number;
  readonly expectCode: string;
}

let service: TestService;
const origin = () => service.url;

function profileOf(tenantId: string, sourceId: string): SourceProfile {
  const profile = service.config.tenants.get(tenantId)?.sources.get(sourceId)?.profile;
  assert.ok(profile, `no source ${tenantId}/${sourceId}`);
  return profile;
}

const pathOf = (source: string) =>
  source === "generic" ? "/webhooks/generic" : `/webhooks/${tenant}/${source}`;

interface SignOptions {
  readonly nowMs?: number;
  readonly id?: string;
  readonly secret?: string;
  /** Request path (query included); default the source's. */
  readonly path?: string;
  readonly contentType?: string;
}

/** Headers that make `body` verify for `source` (lower-case names, content type included). */
function sign(source: string, body: string | Buffer, options: SignOptions = {}): Record<string, string> {
  const tenantId = source === "generic" ? "default" : tenant;
  const secretName = source === "generic" ? "WEBHOOK_SECRET" : sourceNodes[source]?.secret;
  assert.ok(secretName, `unknown source ${source}`);
  const path = options.path ?? pathOf(source);
  return signedHeaders(profileOf(tenantId, source), options.secret ?? secrets[secretName], body, {
    nowMs: options.nowMs ?? Date.now(),
    id: options.id ?? `bad-input-${Math.random().toString(36).slice(2)}`,
    url: `${origin()}${path}`,
    ...(options.contentType !== undefined && { contentType: options.contentType }),
  });
}

/**
 * `headers` as a wire list with `set` applied (a value replaces the header, `undefined` removes it)
 * and `add` appended (repeats included).
 */
function edit(
  headers: Readonly<Record<string, string>>,
  set: Readonly<Record<string, string | undefined>> = {},
  add: HeaderList = [],
): HeaderList {
  const merged: Record<string, string | undefined> = { ...headers };
  for (const [name, value] of Object.entries(set)) merged[name.toLowerCase()] = value;
  const list = Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return [...list, ...add];
}

const post = (path: string, headers: HeaderList, body?: string | Buffer, extra: Partial<RawRequest> = {}) =>
  raw(origin(), { path, headers, ...(body !== undefined && { body }), ...extra });

/** A case whose request is correctly signed for `source` over `body`, then changed by `set`/`add`/`sendBody`. */
function signedCase(
  name: string,
  source: string,
  body: string | Buffer,
  expectStatus: number,
  expectCode: string,
  options: SignOptions & {
    readonly set?: Readonly<Record<string, string | undefined>>;
    readonly add?: HeaderList;
    /** Send these bytes instead of the signed ones. */
    readonly sendBody?: string | Buffer;
  } = {},
): Case {
  return {
    name,
    expectStatus,
    expectCode,
    send: () => {
      const path = options.path ?? pathOf(source);
      const headers = edit(sign(source, body, options), options.set, options.add);
      return post(path, headers, options.sendBody ?? body);
    },
  };
}

/** A case sent exactly as written (no signature). */
function plainCase(name: string, request: RawRequest, expectStatus: number, expectCode: string): Case {
  return { name, expectStatus, expectCode, send: () => raw(origin(), request) };
}

/** A case whose bytes are written verbatim (`{host}` is replaced by the service's host). */
function bytesCase(name: string, text: string | Buffer, expectStatus: number, expectCode: string): Case {
  return {
    name,
    expectStatus,
    expectCode,
    send: () => {
      const bytes =
        typeof text === "string"
          ? Buffer.from(text.replaceAll("{host}", new URL(origin()).host), "latin1")
          : text;
      return sendRaw(origin(), bytes);
    },
  };
}

const json = "application/json";
const jsonHeader: HeaderList = [["Content-Type", json]];
const ok = '{"ok":true}';
const bytes = (...values: number[]) => Buffer.from(values);
const nested = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth);
const nowSeconds = () => String(Math.floor(Date.now() / 1000));

// ---------------------------------------------------------------------------------------------------
// The corpus.

const bodyCases: Case[] = [
  ...(
    [
      ["truncated object", '{"a":'],
      ["truncated after a value", '{"a":1'],
      ["truncated string", '{"a":"abc'],
      ["truncated array", "[1,2,"],
      ["a lone quote", '"'],
      ["garbage text", "hello world"],
      ["garbage bytes (every byte value)", Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
      ["unquoted keys", "{a:1}"],
      ["single quotes", "{'a':1}"],
      ["trailing comma", '{"a":1,}'],
      ["NaN", "NaN"],
      ["undefined", "undefined"],
      ["two documents", "{}{}"],
      ["empty body", ""],
      ["whitespace only", " \r\n\t "],
      ["non-UTF-8 bytes", bytes(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d)],
      [
        "overlong UTF-8 encoding",
        Buffer.concat([Buffer.from('{"a":"'), bytes(0xc0, 0xaf), Buffer.from('"}')]),
      ],
      [
        "UTF-8-encoded surrogate",
        Buffer.concat([Buffer.from('{"a":"'), bytes(0xed, 0xa0, 0x80), Buffer.from('"}')]),
      ],
      ["truncated multi-byte character", Buffer.concat([Buffer.from('{"a":"'), bytes(0xe2, 0x82)])],
      ["UTF-16LE with BOM", Buffer.concat([bytes(0xff, 0xfe), Buffer.from('{"a":1}', "utf16le")])],
      ["UTF-8 BOM before truncated JSON", Buffer.concat([bytes(0xef, 0xbb, 0xbf), Buffer.from('{"a":')])],
      ["JSON bomb: 100 000 nested arrays", nested(100_000)],
      ["JSON bomb: 100 000 nested objects", `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`],
      ["65 nested arrays (limit 64)", nested(65)],
      ["65 levels below a valid prefix", `{"x":${nested(64, '{"y":', "}").replace('{"y":}', '{"y":1}')}}`],
      ["trailing NUL", Buffer.concat([Buffer.from(ok), bytes(0)])],
      ["raw control character in a string", '{"a":"\u0001"}'],
      ["raw newline in a string", '{"a":"line\nbreak"}'],
      ["number with a leading zero", '{"a":01}'],
      ["comments", '{"a":1 /* note */}'],
      ["500 KB of garbage", "x".repeat(500_000)],
    ] as const
  ).map(([name, body]) => signedCase(`body: ${name}`, "github", body, 400, "malformed_body")),
  signedCase(
    "body: form body with non-UTF-8 bytes",
    "github",
    Buffer.concat([Buffer.from("a="), bytes(0xff)]),
    400,
    "malformed_body",
    { contentType: "application/x-www-form-urlencoded" },
  ),
  signedCase(
    "body: twilio form with non-UTF-8 bytes",
    "twilio",
    Buffer.concat([Buffer.from("SmsStatus=received&Body="), bytes(0xfe)]),
    400,
    "malformed_body",
    { contentType: "application/x-www-form-urlencoded" },
  ),
  signedCase(
    "zoom: URL validation without payload.plainToken",
    "zoom",
    '{"event":"endpoint.url_validation","payload":{}}',
    400,
    "malformed_body",
  ),
  signedCase(
    "zoom: URL validation with a numeric plainToken",
    "zoom",
    '{"event":"endpoint.url_validation","payload":{"plainToken":42}}',
    400,
    "malformed_body",
  ),
  signedCase(
    "linear: no webhookTimestamp in the body",
    "linear",
    '{"type":"Issue"}',
    401,
    "timestamp_missing",
  ),
  signedCase(
    "linear: webhookTimestamp not a number",
    "linear",
    '{"type":"Issue","webhookTimestamp":"abc"}',
    400,
    "malformed_body",
  ),
  signedCase(
    "linear: webhookTimestamp a float",
    "linear",
    '{"type":"Issue","webhookTimestamp":1.5}',
    400,
    "malformed_body",
  ),
  signedCase("linear: body not JSON", "linear", "webhookTimestamp=1", 400, "malformed_body"),
  {
    name: "linear: stale webhookTimestamp",
    expectStatus: 401,
    expectCode: "timestamp_stale",
    send: () =>
      signedCase("", "linear", JSON.stringify({ webhookTimestamp: Date.now() - hourMs }), 0, "").send(),
  },
  {
    name: "linear: future webhookTimestamp",
    expectStatus: 401,
    expectCode: "timestamp_future",
    send: () =>
      signedCase("", "linear", JSON.stringify({ webhookTimestamp: Date.now() + hourMs }), 0, "").send(),
  },
];

const contentTypeCases: Case[] = [
  ...[
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "application/jsonx",
    "application/json garbage",
    "application/json, text/plain",
    "application/xml",
    "*/*",
    "text/json",
    "",
  ].map((type) =>
    signedCase(`content type: ${JSON.stringify(type)}`, "github", ok, 415, "unsupported_content_type", {
      set: { "content-type": type },
    }),
  ),
  signedCase("content type: missing", "github", ok, 415, "unsupported_content_type", {
    set: { "content-type": undefined },
  }),
  signedCase(
    "content type: form on a JSON-only source",
    "stripe",
    '{"id":"evt_1"}',
    415,
    "unsupported_content_type",
    {
      set: { "content-type": "application/x-www-form-urlencoded" },
    },
  ),
  signedCase("content type: doubled (same value)", "github", ok, 400, "malformed_header", {
    add: [["Content-Type", json]],
  }),
  signedCase("content type: doubled (different values)", "github", ok, 400, "malformed_header", {
    add: [["Content-Type", "text/plain"]],
  }),
  plainCase(
    "content type: garbage parameters, unsigned",
    { path: pathOf("github"), headers: [["Content-Type", 'application/json;;; ==x; charset="']], body: ok },
    401,
    "signature_missing",
  ),
  plainCase(
    "content type: control character",
    { path: pathOf("github"), headers: [["Content-Type", "application/json\u0001"]], body: ok },
    400,
    "invalid_request",
  ),
  plainCase(
    "content type: wrong, on an unknown source (404 first)",
    { path: "/webhooks/acme/nothing", headers: [["Content-Type", "text/plain"]], body: ok },
    404,
    "unknown_source",
  ),
  signedCase("content encoding: gzip (never decompressed)", "github", ok, 415, "unsupported_content_type", {
    add: [["Content-Encoding", "gzip"]],
  }),
  signedCase("content encoding: br", "github", ok, 415, "unsupported_content_type", {
    add: [["Content-Encoding", "br"]],
  }),
  signedCase("content encoding: doubled", "github", ok, 400, "malformed_header", {
    add: [
      ["Content-Encoding", "identity"],
      ["Content-Encoding", "identity"],
    ],
  }),
];

const sizeCases: Case[] = [
  plainCase(
    "size: 1 MiB + 1 byte with Content-Length",
    { path: pathOf("github"), headers: jsonHeader, body: Buffer.alloc(mebibyte + 1, 0x20) },
    413,
    "body_too_large",
  ),
  plainCase(
    "size: chunked body over the limit",
    {
      path: pathOf("github"),
      headers: [...jsonHeader, ["Transfer-Encoding", "chunked"]],
      framing: "none",
      body: chunkedBody([Buffer.alloc(600_000, 0x20), Buffer.alloc(600_000, 0x20)]),
    },
    413,
    "body_too_large",
  ),
  plainCase(
    "size: Content-Length announces 2 MB",
    {
      path: pathOf("github"),
      headers: [...jsonHeader, ["Content-Length", "2000000"]],
      framing: "none",
      body: ok,
    },
    413,
    "body_too_large",
  ),
  plainCase(
    "size: 1 MiB + 1 byte to an unknown tenant",
    { path: "/webhooks/nobody/github", headers: jsonHeader, body: Buffer.alloc(mebibyte + 1, 0x20) },
    413,
    "body_too_large",
  ),
  plainCase(
    "size: 1 MiB + 1 byte to /webhooks/generic",
    { path: "/webhooks/generic", headers: jsonHeader, body: Buffer.alloc(mebibyte + 1, 0x20) },
    413,
    "body_too_large",
  ),
];

const framing = (name: string, headers: HeaderList, body: string | Buffer = ok): Case =>
  plainCase(
    `framing: ${name}`,
    { path: pathOf("github"), headers, framing: "none", body },
    400,
    "invalid_request",
  );

const framingCases: Case[] = [
  framing("Content-Length not a number", [["Content-Length", "abc"]]),
  framing("Content-Length negative", [["Content-Length", "-1"]]),
  framing("Content-Length fractional", [["Content-Length", "1.5"]]),
  framing("Content-Length with inner space", [["Content-Length", "1 1"]]),
  framing("Content-Length in hex", [["Content-Length", "0xb"]]),
  framing("Content-Length of 20 digits", [["Content-Length", "99999999999999999999"]]),
  framing("two different Content-Lengths", [
    ["Content-Length", "11"],
    ["Content-Length", "12"],
  ]),
  framing(
    "Content-Length with Transfer-Encoding",
    [
      ["Content-Length", "11"],
      ["Transfer-Encoding", "chunked"],
    ],
    chunkedBody([ok]),
  ),
  framing("chunk size not hex", [["Transfer-Encoding", "chunked"]], "zz\r\n{}\r\n0\r\n\r\n"),
  framing("chunk longer than declared", [["Transfer-Encoding", "chunked"]], "2\r\n{}{}\r\n0\r\n\r\n"),
  framing("Transfer-Encoding gzip", [["Transfer-Encoding", "gzip"]]),
  framing("Transfer-Encoding gzip, chunked", [["Transfer-Encoding", "gzip, chunked"]], chunkedBody([ok])),
  framing(
    "Content-Length shorter than the body",
    [["Content-Length", "3"]],
    '{"a":"the rest is not a request"}',
  ),
  plainCase(
    "framing: Expect other than 100-continue",
    { path: pathOf("github"), headers: [...jsonHeader, ["Expect", "bogus"]], body: ok },
    417,
    "expectation_failed",
  ),
  bytesCase(
    "framing: HTTP/1.1 without Host",
    `POST ${pathOf("github")} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: unknown method",
    "FOO /webhooks/acme/github HTTP/1.1\r\nHost: {host}\r\n\r\n",
    400,
    "invalid_request",
  ),
  bytesCase("framing: HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "invalid_request"),
  bytesCase("framing: garbage request line", "GARBAGE\r\n\r\n", 400, "invalid_request"),
  bytesCase(
    "framing: binary garbage",
    Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) % 256)),
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: HTTP/1.2",
    "POST /webhooks/acme/github HTTP/1.2\r\nHost: {host}\r\nContent-Length: 2\r\n\r\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: bare LF line endings",
    "POST /webhooks/acme/github HTTP/1.1\nHost: {host}\nContent-Length: 2\nConnection: close\n\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: NUL in a header value",
    "POST /webhooks/acme/github HTTP/1.1\r\nHost: {host}\r\nX-Foo: a\u0000b\r\nContent-Length: 2\r\n\r\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: obsolete line folding",
    "POST /webhooks/acme/github HTTP/1.1\r\nHost: {host}\r\nX-Foo: a\r\n b\r\nContent-Length: 2\r\n\r\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: space in a header name",
    "POST /webhooks/acme/github HTTP/1.1\r\nHost: {host}\r\nX Foo: a\r\nContent-Length: 2\r\n\r\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: header line without a colon",
    "POST /webhooks/acme/github HTTP/1.1\r\nHost: {host}\r\nBogus\r\nContent-Length: 2\r\n\r\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: raw non-ASCII bytes in the path",
    "POST /webhooks/\u00e4cme/github HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\n\r\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: space in the path",
    "POST /webhooks/acme /github HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\n\r\n{}",
    400,
    "invalid_request",
  ),
  bytesCase(
    "framing: CONNECT (not a proxy)",
    "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n",
    404,
    "not_found",
  ),
];

const bigHeaderCases: Case[] = [
  plainCase(
    "headers: one 17 KiB header",
    { path: pathOf("github"), headers: [...jsonHeader, ["X-Big", "a".repeat(17 * 1024)]], body: ok },
    431,
    "headers_too_large",
  ),
  signedCase("headers: a 17 KiB signature header", "github", ok, 431, "headers_too_large", {
    set: { "x-hub-signature-256": `sha256=${"a".repeat(17 * 1024)}` },
  }),
  plainCase(
    "headers: 3000 headers",
    {
      path: pathOf("github"),
      headers: [...jsonHeader, ...Array.from({ length: 3000 }, (_, i) => [`X-H${i}`, "v"] as const)],
      body: ok,
    },
    431,
    "headers_too_large",
  ),
  plainCase(
    "headers: 20 KB query string",
    { path: `${pathOf("github")}?q=${"q".repeat(20_000)}`, headers: jsonHeader, body: ok },
    431,
    "headers_too_large",
  ),
  plainCase(
    "headers: 1000 small headers (within the limit), unsigned",
    {
      path: pathOf("github"),
      headers: [...jsonHeader, ...Array.from({ length: 1000 }, (_, i) => [`X-H${i}`, "v"] as const)],
      body: ok,
    },
    401,
    "signature_missing",
  ),
];

const githubSignature = "x-hub-signature-256";
const signatureCases: Case[] = [
  signedCase("github: signature missing", "github", ok, 401, "signature_missing", {
    set: { [githubSignature]: undefined },
  }),
  signedCase("github: signature empty", "github", ok, 401, "signature_missing", {
    set: { [githubSignature]: "" },
  }),
  {
    name: "github: signature doubled (both valid)",
    expectStatus: 400,
    expectCode: "malformed_header",
    send: () => {
      const headers = sign("github", ok);
      return post(
        pathOf("github"),
        edit(headers, {}, [[githubSignature, headers[githubSignature] ?? ""]]),
        ok,
      );
    },
  },
  signedCase("github: signature doubled (valid + garbage)", "github", ok, 400, "malformed_header", {
    add: [[githubSignature, `sha256=${"0".repeat(64)}`]],
  }),
  signedCase("github: signature with the wrong prefix", "github", ok, 400, "malformed_header", {
    set: { [githubSignature]: `sha1=${"0".repeat(40)}` },
  }),
  signedCase("github: signature without a prefix", "github", ok, 400, "malformed_header", {
    set: { [githubSignature]: "0".repeat(64) },
  }),
  signedCase("github: prefix only", "github", ok, 401, "signature_invalid", {
    set: { [githubSignature]: "sha256=" },
  }),
  signedCase("github: signature too short", "github", ok, 401, "signature_invalid", {
    set: { [githubSignature]: `sha256=${"0".repeat(63)}` },
  }),
  signedCase("github: signature too long", "github", ok, 401, "signature_invalid", {
    set: { [githubSignature]: `sha256=${"0".repeat(66)}` },
  }),
  signedCase("github: signature not hex", "github", ok, 401, "signature_invalid", {
    set: { [githubSignature]: `sha256=${"z".repeat(64)}` },
  }),
  signedCase("github: signature well-formed but wrong", "github", ok, 401, "signature_invalid", {
    set: { [githubSignature]: `sha256=${"ab".repeat(32)}` },
  }),
  signedCase("github: signature with non-ASCII bytes", "github", ok, 401, "signature_invalid", {
    set: { [githubSignature]: `sha256=${"\u00e9".repeat(64)}` },
  }),
  signedCase("github: 10 KB signature (within the header limit)", "github", ok, 401, "signature_invalid", {
    set: { [githubSignature]: `sha256=${"a".repeat(10_000)}` },
  }),
  signedCase("github: signed with a wrong secret", "github", ok, 401, "signature_invalid", {
    secret: "test-secret-not-real-wrong",
  }),
  signedCase("github: signed over another body", "github", ok, 401, "signature_invalid", {
    sendBody: '{"ok":false}',
  }),
  signedCase("github: delivery id doubled", "github", ok, 400, "malformed_header", {
    add: [["X-GitHub-Delivery", "another-delivery"]],
  }),
  signedCase("github: event type doubled", "github", ok, 400, "malformed_header", {
    add: [
      ["X-GitHub-Event", "push"],
      ["X-GitHub-Event", "issues"],
    ],
  }),

  signedCase("stripe: signature missing", "stripe", '{"id":"evt_1"}', 401, "signature_missing", {
    set: { "stripe-signature": undefined },
  }),
  signedCase("stripe: no t= entry", "stripe", '{"id":"evt_1"}', 401, "timestamp_missing", {
    set: { "stripe-signature": `v1=${"0".repeat(64)}` },
  }),
  signedCase("stripe: t= not a number", "stripe", '{"id":"evt_1"}', 400, "malformed_header", {
    set: { "stripe-signature": `t=abc,v1=${"0".repeat(64)}` },
  }),
  signedCase("stripe: t= twice", "stripe", '{"id":"evt_1"}', 400, "malformed_header", {
    set: { "stripe-signature": `t=1,t=2,v1=${"0".repeat(64)}` },
  }),
  signedCase("stripe: only v0= signatures", "stripe", '{"id":"evt_1"}', 400, "malformed_header", {
    set: { "stripe-signature": `t=${nowSeconds()},v0=${"0".repeat(64)}` },
  }),
  signedCase("stripe: stale", "stripe", '{"id":"evt_1"}', 401, "timestamp_stale", {
    nowMs: Date.now() - hourMs,
  }),
  signedCase("stripe: future", "stripe", '{"id":"evt_1"}', 401, "timestamp_future", {
    nowMs: Date.now() + hourMs,
  }),

  signedCase("standard-webhooks: webhook-id missing", "sw", '{"type":"t"}', 400, "missing_header", {
    set: { "webhook-id": undefined },
  }),
  signedCase("standard-webhooks: webhook-id doubled", "sw", '{"type":"t"}', 400, "malformed_header", {
    add: [["webhook-id", "msg_other"]],
  }),
  signedCase("standard-webhooks: only v2 signatures", "sw", '{"type":"t"}', 400, "malformed_header", {
    set: { "webhook-signature": "v2,AAAA" },
  }),
  signedCase("standard-webhooks: signature not base64", "sw", '{"type":"t"}', 401, "signature_invalid", {
    set: { "webhook-signature": "v1,!!!not-base64!!!" },
  }),
  signedCase("standard-webhooks: webhook-timestamp missing", "sw", '{"type":"t"}', 401, "timestamp_missing", {
    set: { "webhook-timestamp": undefined },
  }),
  signedCase("standard-webhooks: stale", "sw", '{"type":"t"}', 401, "timestamp_stale", {
    nowMs: Date.now() - hourMs,
  }),

  signedCase("zoom: signature missing", "zoom", '{"event":"x"}', 401, "signature_missing", {
    set: { "x-zm-signature": undefined },
  }),
  signedCase("zoom: stale", "zoom", '{"event":"x"}', 401, "timestamp_stale", { nowMs: Date.now() - hourMs }),

  signedCase("gitlab: token missing", "gitlab", ok, 401, "signature_missing", {
    set: { "x-gitlab-token": undefined },
  }),
  signedCase("gitlab: token empty", "gitlab", ok, 401, "signature_missing", {
    set: { "x-gitlab-token": "" },
  }),
  signedCase("gitlab: token wrong", "gitlab", ok, 401, "signature_invalid", {
    secret: "test-secret-not-real-wrong",
  }),
  signedCase("gitlab: token doubled", "gitlab", ok, 400, "malformed_header", {
    add: [["X-Gitlab-Token", secrets.GITLAB_SECRET]],
  }),

  ...twilioCases(),

  signedCase("custom: id header missing", "custom", ok, 400, "missing_header", {
    set: { "x-custom-id": undefined },
  }),
  signedCase("custom: tampered body", "custom", ok, 401, "signature_invalid", { sendBody: '{"ok":1}' }),
  signedCase("custom: hex instead of base64", "custom", ok, 401, "signature_invalid", {
    set: { "x-custom-signature": `v1=${"ab".repeat(64)}` },
  }),
  signedCase("custom: stale", "custom", ok, 401, "timestamp_stale", { nowMs: Date.now() - hourMs }),

  signedCase("generic: signature missing", "generic", ok, 401, "signature_missing", {
    set: { "x-signature": undefined },
  }),
  signedCase("generic: wrong secret", "generic", ok, 401, "signature_invalid", {
    secret: "test-secret-not-real-wrong",
  }),
  signedCase("generic: stale", "generic", ok, 401, "timestamp_stale", { nowMs: Date.now() - hourMs }),
  signedCase("generic: timestamp missing", "generic", ok, 401, "timestamp_missing", {
    set: { "x-timestamp": undefined },
  }),
  signedCase("generic: event id doubled", "generic", ok, 400, "malformed_header", {
    add: [["X-Event-Id", "other"]],
  }),
];

function twilioCases(): Case[] {
  const form = "MessageSid=SM1&SmsStatus=received&Body=hi";
  const formType = { contentType: "application/x-www-form-urlencoded" };
  return [
    signedCase("twilio: signature missing", "twilio", form, 401, "signature_missing", {
      ...formType,
      set: { "x-twilio-signature": undefined },
    }),
    signedCase("twilio: signature not base64", "twilio", form, 401, "signature_invalid", {
      ...formType,
      set: { "x-twilio-signature": "%%%" },
    }),
    signedCase("twilio: wrong auth token", "twilio", form, 401, "signature_invalid", {
      ...formType,
      secret: "test-secret-not-real-wrong",
    }),
    signedCase("twilio: a parameter changed", "twilio", form, 401, "signature_invalid", {
      ...formType,
      sendBody: form.replace("hi", "bye"),
    }),
    signedCase("twilio: signature doubled", "twilio", form, 400, "malformed_header", {
      ...formType,
      add: [["X-Twilio-Signature", "AAAA"]],
    }),
    {
      name: "twilio: signed for another URL",
      expectStatus: 401,
      expectCode: "signature_invalid",
      send: () => {
        const headers = signedHeaders(profileOf(tenant, "twilio"), secrets.TWILIO_SECRET, form, {
          url: "https://elsewhere.example/webhooks/acme/twilio",
          ...formType,
        });
        return post(pathOf("twilio"), headerList(headers), form);
      },
    },
    {
      name: "twilio: JSON body not matching the URL's bodySHA256",
      expectStatus: 401,
      expectCode: "signature_invalid",
      send: () => {
        const body = '{"a":1}';
        // The sender hashed (and signed) one body; another arrives.
        const path = `${pathOf("twilio")}?bodySHA256=${"0".repeat(64)}`;
        const headers = sign("twilio", body, { path, contentType: json });
        return post(path, headerList(headers), body);
      },
    },
  ];
}

const slackTimestamp = "x-slack-request-timestamp";
const slackBody = '{"event_id":"Ev1","event":{"type":"message"}}';
const timestampCases: Case[] = [
  ...(
    [
      ["not a number", "abc", 400, "malformed_header"],
      ["negative", "-5", 400, "malformed_header"],
      ["20 digits", "99999999999999999999", 400, "malformed_header"],
      ["fractional", "1700000000.5", 400, "malformed_header"],
      ["exponent", "1e9", 400, "malformed_header"],
      ["leading plus", "+1700000000", 400, "malformed_header"],
      ["with spaces inside", "17 00", 400, "malformed_header"],
      ["16 digits (far future)", "9999999999999999", 401, "timestamp_future"],
      ["zero", "0", 401, "timestamp_stale"],
      ["empty", "", 401, "timestamp_missing"],
    ] as const
  ).map(([name, value, status, code]) =>
    signedCase(`slack: timestamp ${name}`, "slack", slackBody, status, code, {
      set: { [slackTimestamp]: value },
    }),
  ),
  signedCase("slack: timestamp missing", "slack", slackBody, 401, "timestamp_missing", {
    set: { [slackTimestamp]: undefined },
  }),
  signedCase("slack: timestamp doubled", "slack", slackBody, 400, "malformed_header", {
    add: [["X-Slack-Request-Timestamp", "1"]],
  }),
  signedCase("slack: stale", "slack", slackBody, 401, "timestamp_stale", { nowMs: Date.now() - hourMs }),
  signedCase("slack: future", "slack", slackBody, 401, "timestamp_future", { nowMs: Date.now() + hourMs }),
];

/** Path cases carry a valid github signature: only the path is wrong. */
const pathCase = (name: string, path: string, status: number, code: string): Case => ({
  name: `path: ${name}`,
  expectStatus: status,
  expectCode: code,
  send: () => post(path, headerList(sign("github", ok)), ok),
});

const pathCases: Case[] = [
  pathCase("../ segment", "/webhooks/acme/../github", 404, "not_found"),
  pathCase("./ segment", "/webhooks/./acme/github", 404, "not_found"),
  pathCase("%2e%2e as tenant", "/webhooks/%2e%2e/github", 404, "unknown_tenant"),
  pathCase("%2e%2e as source", "/webhooks/acme/%2e%2e", 404, "unknown_source"),
  pathCase("double-encoded %252e%252e", "/webhooks/%252e%252e/github", 404, "unknown_tenant"),
  pathCase("%2F inside the tenant", "/webhooks/acme%2Fgithub/x", 404, "unknown_tenant"),
  pathCase("%2F..%2F inside the source", "/webhooks/acme/x%2F..%2Fgithub", 404, "unknown_source"),
  pathCase("%5C inside the tenant", "/webhooks/acme%5Cgithub/x", 404, "unknown_tenant"),
  pathCase("raw backslash", "/webhooks/acme\\github", 404, "not_found"),
  pathCase("uppercase tenant", "/webhooks/ACME/github", 404, "unknown_tenant"),
  pathCase("uppercase source", "/webhooks/acme/GITHUB", 404, "unknown_source"),
  pathCase("uppercase prefix", "/WEBHOOKS/acme/github", 404, "not_found"),
  pathCase("100-character tenant", `/webhooks/${"a".repeat(100)}/github`, 404, "unknown_tenant"),
  pathCase("64-character source", `/webhooks/acme/${"a".repeat(64)}`, 404, "unknown_source"),
  pathCase("300-character tenant", `/webhooks/${"a".repeat(300)}/github`, 404, "not_found"),
  pathCase("300-character source", `/webhooks/acme/${"a".repeat(300)}`, 404, "not_found"),
  pathCase("percent-encoded unicode tenant", "/webhooks/%C3%A4cme/github", 404, "unknown_tenant"),
  pathCase("emoji source", "/webhooks/acme/%F0%9F%98%80", 404, "unknown_source"),
  pathCase("leading space in the tenant", "/webhooks/%20acme/github", 404, "unknown_tenant"),
  pathCase("NUL in the tenant", "/webhooks/acme%00/github", 404, "unknown_tenant"),
  pathCase("NUL in the source", "/webhooks/acme/github%00", 404, "unknown_source"),
  pathCase("trailing slash", "/webhooks/acme/github/", 404, "not_found"),
  pathCase("double slash before the tenant", "/webhooks//acme/github", 404, "not_found"),
  pathCase("double slash before the source", "/webhooks/acme//github", 404, "not_found"),
  pathCase("extra segment", "/webhooks/acme/github/extra", 404, "not_found"),
  pathCase("empty source", "/webhooks/acme/", 404, "unknown_source"),
  pathCase("empty source of an unknown tenant", "/webhooks/nobody/", 404, "unknown_tenant"),
  pathCase("/webhooks/ only", "/webhooks/", 404, "not_found"),
  pathCase("/webhooks only", "/webhooks", 404, "not_found"),
  pathCase("/webhooks/generic/ (a tenant named generic)", "/webhooks/generic/", 404, "unknown_tenant"),
  pathCase("/webhooks/generic%2F", "/webhooks/generic%2F", 404, "not_found"),
  pathCase("unknown tenant", "/webhooks/nobody/github", 404, "unknown_tenant"),
  pathCase("unknown source", "/webhooks/acme/nothing", 404, "unknown_source"),
  pathCase("source of another tenant", "/webhooks/default/github", 404, "unknown_source"),
  pathCase(
    "query naming a real tenant",
    "/webhooks/nobody/github?tenant=acme&source=github",
    404,
    "unknown_tenant",
  ),
  pathCase("absolute-form URI", "http://evil.example/webhooks/nobody/github", 404, "unknown_tenant"),
  pathCase("bad percent-encoding %zz", "/webhooks/acme/github%zz", 400, "invalid_request"),
  pathCase("invalid UTF-8 %ff", "/webhooks/%ff/github", 400, "invalid_request"),
  pathCase("overlong UTF-8 %c0%ae", "/webhooks/%c0%ae%c0%ae/github", 400, "invalid_request"),
  plainCase(
    "path: query string on a real source, unsigned",
    { path: `${pathOf("github")}?x=1`, headers: jsonHeader, body: ok },
    401,
    "signature_missing",
  ),
];

const methodCases: Case[] = [
  ...["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"].map((method) =>
    plainCase(
      `method: ${method} on a source`,
      { method, path: pathOf("github"), headers: jsonHeader },
      404,
      "not_found",
    ),
  ),
  plainCase("method: GET /webhooks/generic", { method: "GET", path: "/webhooks/generic" }, 404, "not_found"),
  plainCase(
    "method: PUT /webhooks/generic",
    { method: "PUT", path: "/webhooks/generic", headers: jsonHeader, body: ok },
    404,
    "not_found",
  ),
];

const corpus: readonly Case[] = [
  ...bodyCases,
  ...contentTypeCases,
  ...sizeCases,
  ...framingCases,
  ...bigHeaderCases,
  ...signatureCases,
  ...timestampCases,
  ...pathCases,
  ...methodCases,
];

// ---------------------------------------------------------------------------------------------------

describe(`bad-input corpus (${corpus.length} cases): stable 4xx codes, nothing enqueued`, () => {
  let sink: WebhookSink;

  const count = (table: string): number => countRows(service.dataDir, table);

  before(async () => {
    assert.ok(corpus.length >= 120, `only ${corpus.length} cases`);
    assert.equal(new Set(corpus.map((c) => c.name)).size, corpus.length, "case names must be unique");
    sink = await WebhookSink.start();
    const ids = Object.keys(sourceNodes);
    const yaml = [
      "tenants:",
      `  - id: ${tenant}`,
      "    sources:",
      ...ids.map((id) => {
        const node = sourceNodes[id];
        assert.ok(node);
        return `      - id: ${id}\n        secrets: [env:${node.secret}]\n        ${node.yaml}`;
      }),
      "    destinations:",
      `      - { id: main, type: webhook, url: "${sink.url}" }`,
      "    routes:",
      "      - { to: [main] }",
      "  - id: default",
      "    destinations:",
      `      - { id: main, type: webhook, url: "${sink.url}" }`,
      "    routes:",
      "      - { from: [generic], to: [main] }",
    ].join("\n");
    service = await startTestService({ yaml, env: secrets });
  });

  after(async () => {
    await service?.close();
    await sink?.close();
  });

  for (const testCase of corpus) {
    it(testCase.name, async () => {
      const response = await testCase.send();
      const context = `${testCase.name}: ${response.status} ${response.body.slice(0, 300)}`;
      assert.equal(response.status, testCase.expectStatus, context);
      assert.match(response.headers["content-type"] ?? "", /^application\/json/, context);
      const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
      assert.deepEqual(Object.keys(body), ["error"], context);
      assert.deepEqual(Object.keys(body.error ?? {}).sort(), ["code", "message"], context);
      assert.equal(body.error?.code, testCase.expectCode, context);
      assert.equal(typeof body.error?.message, "string", context);
      assert.notEqual(body.error?.message, "", context);
      for (const secret of Object.values(secrets)) {
        assert.ok(!response.body.includes(secret), `${testCase.name}: the answer contains a secret`);
      }
    });
  }

  it("stored, enqueued and delivered nothing, and the service is still ready", async () => {
    const stats = await service.service.stores.queue.stats();
    assert.deepEqual(stats, { ready: 0, delayed: 0, leased: 0, byDestination: {}, dlq: 0 });
    // Also no dedupe key: the store dedupes through the event rows' identity index (schema v2).
    assert.equal(count("events"), 0, "events stored or dedupe keys claimed");
    assert.equal(count("jobs"), 0, "jobs stored");
    assert.equal(count("key_store"), 0, "nonces claimed");
    assert.equal(sink.requests.length, 0, "deliveries made");

    const ready = await raw(origin(), { method: "GET", path: "/ready" });
    assert.equal(ready.status, 200, ready.body);
    assert.equal((JSON.parse(ready.body) as { status: string }).status, "ready");
  });

  it("still accepts and delivers a valid request afterwards", async () => {
    const body = '{"after":"corpus"}';
    const response = await post(
      pathOf("github"),
      edit(sign("github", body, { id: "after-corpus" }), {}, [["X-GitHub-Event", "push"]]),
      body,
    );
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(JSON.parse(response.body), {
      status: "accepted",
      eventId: "after-corpus",
      deliveries: 1,
    });
    await waitFor("the delivery", () => sink.requests.length === 1 || undefined, 5_000, 5);
  });

  describe("edge inputs that are not errors", () => {
    const accepts = (name: string, body: string | Buffer, contentType = json) =>
      it(name, async () => {
        const response = await post(
          pathOf("github"),
          headerList(sign("github", body, { contentType })),
          body,
        );
        assert.equal(response.status, 200, response.body);
        assert.equal((JSON.parse(response.body) as { status: string }).status, "accepted");
      });

    accepts("a flat array of 400 000 numbers (under the size limit)", `[${"0,".repeat(400_000)}0]`);
    accepts("64 nested arrays (the depth limit)", nested(64));
    accepts(
      "a UTF-8 BOM before valid JSON (RFC 8259 allows ignoring it)",
      Buffer.concat([bytes(0xef, 0xbb, 0xbf), Buffer.from(ok)]),
    );
    accepts("brackets inside strings do not count as nesting", JSON.stringify({ s: "[".repeat(10_000) }));
    accepts("a JSON body of exactly 1 MiB", `"${"x".repeat(mebibyte - 2)}"`);
    accepts(
      "application/json with unknown parameters",
      '{"params":1}',
      "application/json; charset=utf-8; foo=bar",
    );
    accepts("an upper-case media type", '{"upper":1}', "APPLICATION/JSON");
  });
});
