/**
 * Idempotency keys. Intake dedupes on `sha256(tenant:source:eventId)`; every delivery carries
 * `sha256(tenant:destination:eventId)` outbound (Idempotency-Key / webhook-id) so receivers can make
 * at-least-once delivery exactly-once in effect.
 */
import { createHash } from "node:crypto";

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export function intakeDedupeKey(tenant: string, source: string, eventId: string): string {
  return sha256Hex(`${tenant}:${source}:${eventId}`);
}

export function deliveryIdempotencyKey(tenant: string, destination: string, eventId: string): string {
  return sha256Hex(`${tenant}:${destination}:${eventId}`);
}

/** Fallback event id when the provider sends none: sha256 of the exact body bytes. */
export function bodyEventId(rawBody: Uint8Array): string {
  return createHash("sha256").update(rawBody).digest("hex");
}
