/**
 * How a source proves a request is genuine: the data shape shared by config (which parses it from
 * YAML or expands a preset) and the verifiers (which compile it once into a check on raw bytes).
 */

export const presetNames = [
  "github",
  "gitlab",
  "stripe",
  "standard-webhooks",
  "shopify",
  "pagerduty",
  "linear",
  "zoom",
  "twilio",
  "slack",
  "jira",
  "generic",
] as const;
export type PresetName = (typeof presetNames)[number];

/** Where a value lives in a request: a header (case-insensitive) or a JSON path like `$.data.id`. */
export interface FieldRef {
  readonly header?: string;
  readonly jsonPath?: string;
}

export interface TimestampSpec {
  /** Header carrying the timestamp (e.g. `X-Slack-Request-Timestamp`). */
  readonly header?: string;
  /** Key inside the signature header's `k=v` list (Stripe `t`). */
  readonly signatureKey?: string;
  /** JSON path in the body (Linear `$.webhookTimestamp`); trusted only because the body is signed. */
  readonly jsonPath?: string;
  readonly unit: "s" | "ms";
  /** Two-sided: requests more than this far in the past or the future are refused. */
  readonly toleranceSeconds: number;
}

/** HMAC over a signed-content template: covers GitHub, Stripe, Slack, Svix, Shopify, PagerDuty, Zoom, … */
export interface HmacScheme {
  readonly kind: "hmac";
  readonly algorithm: "sha1" | "sha256" | "sha512";
  /** `utf8`: secret bytes as written; `base64`: decoded; `whsec`: strip `whsec_` then base64-decode. */
  readonly keyEncoding: "utf8" | "base64" | "whsec";
  readonly signatureHeader: string;
  /**
   * Other names of the same signature header, e.g. Shopify's legacy `X-Shopify-Hmac-Sha256` next to
   * `shopify-hmac-sha256`. The first header present in `[signatureHeader, ...aliases]` is the one checked.
   */
  readonly signatureHeaderAliases?: readonly string[];
  /** Prefix of each signature value, e.g. `sha256=`, `v0=`, `v1=`, `v1,`. Entries without it are ignored. */
  readonly signaturePrefix?: string;
  /** Several signatures in one header separated by this (`,` PagerDuty/Stripe, ` ` Standard Webhooks). */
  readonly signatureSeparator?: string;
  readonly encoding: "hex" | "base64";
  /** Template of the signed bytes; placeholders `{body}` `{timestamp}` `{id}` `{url}`. */
  readonly signedContent: string;
  readonly timestamp?: TimestampSpec;
  /** Header whose value fills `{id}` (Standard Webhooks `webhook-id`). Required when `{id}` is used. */
  readonly idHeader?: string;
}

/** A shared secret sent as-is in a header (GitLab classic `X-Gitlab-Token`, Falcosidekick bearer). */
export interface TokenScheme {
  readonly kind: "token";
  readonly header: string;
  /** e.g. `Bearer ` */
  readonly prefix?: string;
}

/** Twilio: HMAC-SHA1 over the public URL + sorted form params, base64 in `X-Twilio-Signature`. */
export interface TwilioScheme {
  readonly kind: "twilio";
}

/** No verification. Only allowed when the config says `verify: none` explicitly. */
export interface NoneScheme {
  readonly kind: "none";
}

export type Scheme = HmacScheme | TokenScheme | TwilioScheme | NoneScheme;

/** Everything intake needs to verify and identify requests of one source. */
export interface SourceProfile {
  readonly scheme: Scheme;
  /** Where the provider's own event id lives. Absent: the id is sha256(body) and replays are refused (409). */
  readonly eventId?: FieldRef;
  /** Where the event type lives; absent: type `unknown`. */
  readonly eventType?: FieldRef;
  /** Accepted content types (media type only, lower case). */
  readonly contentTypes: readonly string[];
}
