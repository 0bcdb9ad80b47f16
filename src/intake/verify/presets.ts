/**
 * Provider presets: each is just a `SourceProfile` built on the generic scheme, with the provider's
 * own event-id and event-type locations. Facts (headers, key encodings, timestamp units) come from
 * the providers' SDKs; see ../shared/reference/providers.md §1.1 and §4. Every timestamp window
 * is two-sided, even where the provider's SDK only refuses old requests (Stripe, Slack).
 */
import type { PresetName, SourceProfile } from "./spec.ts";

const json = ["application/json"] as const;
const jsonOrForm = ["application/json", "application/x-www-form-urlencoded"] as const;

/** Default two-sided window for schemes whose provider documents none. */
export const defaultToleranceSeconds = 300;
/** Linear's SDK refuses webhooks more than one minute from now, either way. */
const linearToleranceSeconds = 60;

function profiles(toleranceSeconds: number): Record<PresetName, SourceProfile> {
  return {
    github: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        signatureHeader: "x-hub-signature-256",
        signaturePrefix: "sha256=",
        encoding: "hex",
        signedContent: "{body}",
      },
      eventId: { header: "x-github-delivery" },
      eventType: { header: "x-github-event" },
      contentTypes: jsonOrForm,
    },
    gitlab: {
      scheme: { kind: "token", header: "x-gitlab-token" },
      // Classic secret token: proves the sender only (no body integrity, no replay window). GitLab's newer
      // signing token is Standard Webhooks: use that preset for it.
      // GitLab ≥ 17.4 sends a stable Idempotency-Key; X-Gitlab-Event-UUID is per delivery attempt.
      eventId: { header: "idempotency-key" },
      eventType: { header: "x-gitlab-event" },
      contentTypes: json,
    },
    stripe: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        // Stripe keys the HMAC with the literal `whsec_…` string, unlike Standard Webhooks.
        keyEncoding: "utf8",
        signatureHeader: "stripe-signature",
        signaturePrefix: "v1=",
        signatureSeparator: ",",
        encoding: "hex",
        signedContent: "{timestamp}.{body}",
        timestamp: { signatureKey: "t", unit: "s", toleranceSeconds },
      },
      eventId: { jsonPath: "$.id" },
      eventType: { jsonPath: "$.type" },
      contentTypes: json,
    },
    "standard-webhooks": {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "whsec",
        signatureHeader: "webhook-signature",
        signaturePrefix: "v1,",
        signatureSeparator: " ",
        encoding: "base64",
        signedContent: "{id}.{timestamp}.{body}",
        timestamp: { header: "webhook-timestamp", unit: "s", toleranceSeconds },
        idHeader: "webhook-id",
      },
      eventId: { header: "webhook-id" },
      eventType: { jsonPath: "$.type" },
      contentTypes: json,
    },
    shopify: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        // Events webhooks send the un-prefixed header (checked first) next to the classic one.
        signatureHeader: "shopify-hmac-sha256",
        signatureHeaderAliases: ["x-shopify-hmac-sha256"],
        encoding: "base64",
        signedContent: "{body}",
      },
      // Both webhook generations send the x-shopify-* headers; the id is stable across retries.
      eventId: { header: "x-shopify-webhook-id" },
      eventType: { header: "x-shopify-topic" },
      contentTypes: json,
    },
    pagerduty: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        signatureHeader: "x-pagerduty-signature",
        signaturePrefix: "v1=",
        signatureSeparator: ",",
        encoding: "hex",
        signedContent: "{body}",
      },
      eventId: { header: "x-webhook-id" },
      eventType: { jsonPath: "$.event.event_type" },
      contentTypes: json,
    },
    linear: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        signatureHeader: "linear-signature",
        encoding: "hex",
        signedContent: "{body}",
        // Linear's SDK allows ±60 s on a millisecond timestamp carried in the (signed) body. The newer
        // `linear-timestamp` header is not signed, so the body field is the one trusted.
        timestamp: { jsonPath: "$.webhookTimestamp", unit: "ms", toleranceSeconds: linearToleranceSeconds },
      },
      eventId: { header: "linear-delivery" },
      eventType: { jsonPath: "$.type" },
      contentTypes: json,
    },
    zoom: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        signatureHeader: "x-zm-signature",
        signaturePrefix: "v0=",
        encoding: "hex",
        signedContent: "v0:{timestamp}:{body}",
        timestamp: { header: "x-zm-request-timestamp", unit: "s", toleranceSeconds },
      },
      // Zoom sends no delivery id header; the body's event + event_ts + payload identify it.
      eventType: { jsonPath: "$.event" },
      contentTypes: json,
    },
    twilio: {
      scheme: { kind: "twilio" },
      // Stable across Twilio's retries and distinct per callback; MessageSid is shared by every status
      // callback of one message (queued, sent, delivered), so it would drop all but the first.
      eventId: { header: "i-twilio-idempotency-token" },
      // Messaging callbacks (incoming and status) carry SmsStatus; voice callbacks would need CallStatus.
      eventType: { jsonPath: "$.SmsStatus" },
      contentTypes: jsonOrForm,
    },
    slack: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        signatureHeader: "x-slack-signature",
        signaturePrefix: "v0=",
        encoding: "hex",
        signedContent: "v0:{timestamp}:{body}",
        timestamp: { header: "x-slack-request-timestamp", unit: "s", toleranceSeconds },
      },
      eventId: { jsonPath: "$.event_id" },
      eventType: { jsonPath: "$.event.type" },
      contentTypes: jsonOrForm,
    },
    jira: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        signatureHeader: "x-hub-signature",
        signaturePrefix: "sha256=",
        encoding: "hex",
        signedContent: "{body}",
      },
      // The payload's ms `timestamp` is not used as a window: Jira retries keep it and arrive up to ~30 min late.
      eventId: { header: "x-atlassian-webhook-identifier" },
      eventType: { jsonPath: "$.webhookEvent" },
      contentTypes: json,
    },
    // Our own scheme for `/webhooks/generic` and `zen sign`: X-Signature: sha256=hex(HMAC(secret, "{ts}.{body}")).
    generic: {
      scheme: {
        kind: "hmac",
        algorithm: "sha256",
        keyEncoding: "utf8",
        signatureHeader: "x-signature",
        signaturePrefix: "sha256=",
        encoding: "hex",
        signedContent: "{timestamp}.{body}",
        timestamp: { header: "x-timestamp", unit: "s", toleranceSeconds },
      },
      eventId: { header: "x-event-id" },
      eventType: { header: "x-event-type" },
      contentTypes: json,
    },
  };
}

/** The profile of a preset, with `toleranceSeconds` applied where the provider documents none. */
export function presetProfile(name: PresetName, toleranceSeconds = defaultToleranceSeconds): SourceProfile {
  return profiles(toleranceSeconds)[name];
}
