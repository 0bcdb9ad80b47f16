/**
 * What a template sees. Top-level variables:
 * - `event`: the canonical event (DESIGN.md §2): `id`, `tenant`, `source`, `type`, `category`,
 *   `severity`, `resource { apiVersion, kind, namespace, name }`, `subject`, `data`, `headers`,
 *   `receivedAt`, `fingerprint`. Optional fields are absent, not empty.
 * - `delivery`: `{ ref }`, the delivery's short reference, when rendering for a delivery. Jira and
 *   ServiceNow put it in the ticket so a retry can recognise an attempt that already got through.
 *
 * The event given here must already be redacted (redaction layer 1): templates render what they get.
 */
import type { ZenEvent } from "../domain/event.ts";

export interface TemplateDelivery {
  /** Short, stable reference of the delivery (the same on every attempt). */
  readonly ref: string;
}

export interface TemplateContext {
  readonly event: ZenEvent;
  readonly delivery?: TemplateDelivery;
}

/** The context for `event` (and, when rendering a delivery, its reference). */
export function templateContext(event: ZenEvent, delivery?: TemplateDelivery): TemplateContext {
  return delivery === undefined ? { event } : { event, delivery };
}
