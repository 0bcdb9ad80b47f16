/**
 * Compiles a `type: webhook` destination. The URL may itself be a credential (Slack incoming webhooks,
 * tokens in query strings), so it may be written as a secret reference and is never echoed in
 * messages. Header values that are credentials must be references too.
 */

import { checkTimeoutBelowLease, resolveLiteralOrRef } from "./compile-common.ts";
import type { CompileContext, TenantScope } from "./compile-context.ts";
import { compileDestinationTemplates } from "./compile-templates.ts";
import type { WebhookDestinationConfig } from "./config.ts";
import { headerNamePattern, webhookDestinationSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { looksLikeSecretRef, parseSecretRef, resolveSecret, type SecretSources } from "./secrets.ts";
import { httpUrl } from "./values.ts";
import { parseNode } from "./zod-issues.ts";

/**
 * Headers the sender owns: framing and hop-by-hop headers, and the signature/idempotency headers it
 * computes per request. A static value would break delivery or forge a signature.
 */
export const reservedHeaders: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "idempotency-key",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);

/** Header names whose values are credentials: a literal value would be a secret in the file. */
const credentialHeader = /authorization|token|secret|api-?key|password|cookie/i;

/**
 * @returns the destination, or undefined after recording its problems. `timeoutMs` defaults to
 *   30 000 and must stay below `ctx.leaseMs`; header names come back lower-cased.
 */
export function compileWebhookDestination(
  raw: unknown,
  path: FieldPath,
  tenant: TenantScope,
  ctx: CompileContext,
  problems: Problems,
): WebhookDestinationConfig | undefined {
  const node = parseNode(webhookDestinationSchema, raw, path, problems);
  if (!node) return undefined;
  const before = problems.count;

  const url = compileUrl(node.url, [...path, "url"], ctx.secrets, problems);
  let secret: string | undefined;
  if (node.secret) {
    const resolved = resolveSecret(node.secret, ctx.secrets);
    if (resolved.ok) secret = resolved.value;
    else problems.at([...path, "secret"], resolved.message);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(node.headers ?? {})) {
    const compiled = compileHeader(name, value, [...path, "headers", name], ctx.secrets, problems);
    if (compiled !== undefined) headers[name.toLowerCase()] = compiled;
  }
  checkTimeoutBelowLease(node.timeoutMs, [...path, "timeoutMs"], ctx, problems);
  const templates = compileDestinationTemplates(
    "webhook",
    node.templates,
    [...path, "templates"],
    ctx.secrets,
    problems,
  );
  if (problems.count > before || url === undefined) return undefined;
  return {
    type: "webhook",
    id: node.id,
    tenant: tenant.id,
    url,
    ...(secret !== undefined && { secret }),
    headers,
    timeoutMs: node.timeoutMs,
    ...(node.rateLimit && { rateLimit: node.rateLimit }),
    ...(node.redact === false && { redact: false as const }),
    ...(templates && { templates }),
  };
}

function compileUrl(
  raw: string,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): string | undefined {
  const value = resolveLiteralOrRef(raw, path, sources, problems);
  if (!value) return undefined;
  const url = httpUrl(value.text);
  if (!url.ok) {
    problems.at(path, value.fromRef ? `the referenced value: ${url.message}` : url.message);
    return undefined;
  }
  if (!value.fromRef && (url.value.username !== "" || url.value.password !== "")) {
    problems.at(
      path,
      "must not carry credentials in the file; use a header with env:/file:, or url: env:NAME",
    );
    return undefined;
  }
  return url.value.href;
}

function compileHeader(
  name: string,
  value: string,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): string | undefined {
  if (!headerNamePattern.test(name)) {
    problems.at(path, "not a valid HTTP header name");
    return undefined;
  }
  if (reservedHeaders.has(name.toLowerCase())) {
    problems.at(path, "is set by the sender for every request and cannot be configured");
    return undefined;
  }
  let text = value;
  if (looksLikeSecretRef(value)) {
    // Not via resolveLiteralOrRef: a header value is used verbatim, whitespace included.
    const ref = parseSecretRef(value);
    const resolved = ref.ok ? resolveSecret(ref.value, sources) : ref;
    if (!resolved.ok) {
      problems.at(path, resolved.message);
      return undefined;
    }
    text = resolved.value;
  } else if (credentialHeader.test(name)) {
    problems.at(
      path,
      "looks like a credential: write env:NAME or file:/path instead of the value (not shown)",
    );
    return undefined;
  }
  if (/[\r\n\0]/.test(text)) {
    problems.at(path, "value must not contain line breaks or NUL (value not shown)");
    return undefined;
  }
  return text;
}
