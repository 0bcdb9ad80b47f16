/**
 * `zen sign`: prints a curl command that posts a correctly signed request to a configured source,
 * so users can test their setup end to end. The secret is used, never printed: only the resulting
 * signature headers are.
 */
import { readFileSync } from "node:fs";
import type { Config } from "../config/config.ts";
import { signRequest } from "../intake/verify/sign-request.ts";

export interface SignOptions {
  readonly tenant: string;
  readonly source: string;
  readonly data?: string;
  readonly file?: string;
  readonly eventId?: string;
  /**
   * Event type for sources that read it from a header (GitHub's `X-GitHub-Event`, …), so the request
   * can match a route's `when: { type }`. Where the type lives in the body, put it in the body.
   */
  readonly type?: string;
  /** Base URL of the service; default http://localhost:<PORT>. */
  readonly url?: string;
  /** Which of the source's secrets to sign with (rotation testing); default 0. */
  readonly secretIndex: number;
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Returns the curl command; throws Error with a user-facing message on bad input. */
export function buildSignedCurl(config: Config, options: SignOptions, nowMs: number): string {
  const tenant = config.tenants.get(options.tenant);
  if (!tenant) throw new Error(`no tenant "${options.tenant}" in the configuration`);
  const source = tenant.sources.get(options.source);
  if (!source) throw new Error(`tenant "${options.tenant}" has no source "${options.source}"`);
  const secret = source.secrets[options.secretIndex];
  if (source.profile.scheme.kind !== "none" && secret === undefined) {
    throw new Error(`source "${options.source}" has no secret #${options.secretIndex}`);
  }
  if (options.data !== undefined && options.file !== undefined)
    throw new Error("give --data or --file, not both");
  const body =
    options.file !== undefined
      ? readFileSync(options.file === "-" ? 0 : options.file, "utf8")
      : (options.data ?? "{}");
  const base = options.url ?? `http://localhost:${config.port}`;
  const url =
    options.tenant === "default" && options.source === "generic"
      ? `${base}/webhooks/generic`
      : `${base}/webhooks/${options.tenant}/${options.source}`;
  const contentType = source.profile.contentTypes[0] ?? "application/json";
  const typeHeader = source.profile.eventType?.header;
  if (options.type !== undefined && typeHeader === undefined) {
    const where = source.profile.eventType?.jsonPath;
    throw new Error(
      where === undefined
        ? `source "${options.source}" does not read an event type; drop --type`
        : `source "${options.source}" reads the event type from the body at ${where}: put it in --data instead of --type`,
    );
  }
  const headers = signRequest(source.profile, secret ?? "", {
    body,
    nowMs,
    url,
    ...(options.eventId !== undefined ? { id: options.eventId } : {}),
  });
  const parts = [
    "curl",
    "-sS",
    "-X",
    "POST",
    shellQuote(url),
    "-H",
    shellQuote(`content-type: ${contentType}`),
  ];
  if (options.type !== undefined && typeHeader !== undefined) headers[typeHeader] = options.type;
  for (const [name, value] of Object.entries(headers)) parts.push("-H", shellQuote(`${name}: ${value}`));
  parts.push("--data-binary", shellQuote(body));
  return parts.join(" ");
}
