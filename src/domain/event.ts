/**
 * The canonical event: what every source is normalized into and every destination renders from.
 * Field names follow DESIGN.md §2 and stay compatible with zen-watcher's Event/Observation model.
 */

export type Severity = "critical" | "high" | "medium" | "low" | "info";

export interface ResourceRef {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface ZenEvent {
  /** Stable id: from the provider (e.g. X-GitHub-Delivery), a configured header/JSON path, else sha256(body). */
  readonly id: string;
  readonly tenant: string;
  readonly source: string;
  /** Provider event type, e.g. `push`, `invoice.paid`; `unknown` when the source says nothing. */
  readonly type: string;
  readonly category?: string;
  readonly severity?: Severity;
  readonly resource?: ResourceRef;
  readonly subject?: string;
  /** The parsed payload (JSON object, or form fields as an object). */
  readonly data: unknown;
  /** Selected request headers kept for routing and templates (never signatures or credentials). */
  readonly headers?: Readonly<Record<string, string>>;
  /** ISO-8601 time the intake accepted the event. */
  readonly receivedAt: string;
  readonly fingerprint?: string;
}
