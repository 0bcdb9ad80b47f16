/**
 * Redaction wired into delivery: the two layers as every destination applies them, per attempt.
 *
 * Threat: a destination (Slack channel, ticket, third-party webhook) receiving credentials, personal
 * data or namespace names carried by an event. Layer 1 (`prepareEvent`) redacts the event before
 * anything renders it; layer 2 (`redactBody`), the authoritative one, redacts each serialized request
 * body right before it is sent (after templates, before signing). Both fail closed: any throw
 * becomes `RedactionError` (a `PermanentError` `redaction_failed`), so nothing is sent and the
 * worker dead-letters the delivery at once without charging the destination's breaker
 * (`isOwnRefusal`). A destination with `redact: false` gets `policy === undefined`: both layers
 * pass data through unchanged and count nothing.
 */
import type { ResourceRef, ZenEvent } from "../domain/event.ts";
import { addRedactionCounts, type MutableRedactionCounts, type RedactionCounts } from "./kinds.ts";
import {
  type CompiledRedactionPolicy,
  compileRedactionPolicy,
  defaultRedactionPolicyOptions,
} from "./policy.ts";
import { type RedactedText, redactText } from "./redact-text.ts";
import { redactionFailure, redactValue } from "./redact-value.ts";
import { RedactionError } from "./redaction-error.ts";

/** Told the redactions of each delivery attempt (both layers summed): `zen_redactions_total{tenant,kind}`. */
export type RedactionObserver = (tenant: string, counts: RedactionCounts) => void;

export interface PreparedEvent {
  /** The event as templates and renderers may see it. */
  readonly event: ZenEvent;
  readonly counts: RedactionCounts;
}

let defaultPolicy: CompiledRedactionPolicy | undefined;

/** The policy of a tenant without a `redaction:` block: every kind, namespaces `[REDACTED_NAMESPACE]`. */
export function defaultRedactionPolicy(): CompiledRedactionPolicy {
  defaultPolicy ??= compileRedactionPolicy(defaultRedactionPolicyOptions);
  return defaultPolicy;
}

const noCounts: RedactionCounts = Object.freeze({});

/** The namespaces an event is known to belong to: their bare mentions are redacted in both layers. */
export function knownNamespacesOf(event: ZenEvent): readonly string[] | undefined {
  const namespace = event.resource?.namespace;
  return namespace === undefined || namespace === "" ? undefined : [namespace];
}

/**
 * Layer 1: `event` with `subject`, `category`, `resource`, `data`, `headers` and `fingerprint`
 * redacted in one pass (so a namespace learned in `resource` or `data` is also redacted where the
 * subject mentions it). Kept as they are: `id`, `tenant`, `source`, `type` and `receivedAt` (our own
 * identifiers and the provider's event type, needed to recognise retries) and `severity` (a closed
 * vocabulary of five words). Never mutates `event`.
 * @throws RedactionError (code `redaction_failed`) when the engine fails: never a half-redacted event.
 */
export function prepareEvent(event: ZenEvent, policy: CompiledRedactionPolicy | undefined): PreparedEvent {
  if (policy === undefined) return { event, counts: noCounts };
  // An array, not an object: a namespace called `data` or `subject` must not rename our own fields.
  const carried = [
    event.subject,
    event.category,
    event.resource,
    event.data,
    event.headers,
    event.fingerprint,
  ];
  const knownNamespaces = knownNamespacesOf(event);
  const { value, counts } = redactValue(carried, policy, knownNamespaces ? { knownNamespaces } : {});
  try {
    const [subject, category, resource, data, headers, fingerprint] = value as unknown[];
    const redacted: ZenEvent = {
      id: event.id,
      tenant: event.tenant,
      source: event.source,
      type: event.type,
      ...(event.category !== undefined && { category: asString(category, "category") }),
      ...(event.severity !== undefined && { severity: event.severity }),
      ...(event.resource !== undefined && { resource: asResource(resource) }),
      ...(event.subject !== undefined && { subject: asString(subject, "subject") }),
      data,
      ...(event.headers !== undefined && { headers: asStringRecord(headers) }),
      receivedAt: event.receivedAt,
      ...(event.fingerprint !== undefined && { fingerprint: asString(fingerprint, "fingerprint") }),
    };
    return { event: redacted, counts };
  } catch (err) {
    throw redactionFailure(err);
  }
}

/**
 * Layer 2: `text` (a serialized request body: JSON, form or plain text) redacted just before it is
 * sent. A valid JSON body stays valid JSON (redact-text.ts).
 * @throws RedactionError (code `redaction_failed`) when the engine fails.
 */
export function redactBody(
  text: string,
  policy: CompiledRedactionPolicy | undefined,
  knownNamespaces?: readonly string[],
): RedactedText {
  if (policy === undefined) return { text, counts: noCounts };
  return redactText(text, policy, knownNamespaces ? { knownNamespaces } : {});
}

/**
 * The redaction of one delivery attempt: layer 1 once at the start, layer 2 on every body the attempt
 * sends, the counts of both summed and reported once (`report`, called when the attempt ends, sent
 * or not).
 */
export class AttemptRedaction {
  /** The event after layer 1: render from this, never from the original. */
  readonly event: ZenEvent;
  private readonly counts: MutableRedactionCounts = {};
  private readonly knownNamespaces: readonly string[] | undefined;
  private reported = false;

  /** @throws RedactionError (code `redaction_failed`) when layer 1 fails. */
  constructor(
    original: ZenEvent,
    private readonly policy: CompiledRedactionPolicy | undefined,
    private readonly observer?: RedactionObserver,
  ) {
    const prepared = prepareEvent(original, policy);
    this.event = prepared.event;
    this.knownNamespaces = knownNamespacesOf(original);
    addRedactionCounts(this.counts, prepared.counts);
  }

  /**
   * Layer 2 on one serialized body; returns the text to send (and to sign).
   * @throws RedactionError (code `redaction_failed`) when it fails.
   */
  body(text: string): string {
    const result = redactBody(text, this.policy, this.knownNamespaces);
    addRedactionCounts(this.counts, result.counts);
    return result.text;
  }

  /** Hands the summed counts to the observer (once; nothing when no redaction happened). */
  report(tenant: string): void {
    if (this.reported) return;
    this.reported = true;
    if (this.observer !== undefined && Object.keys(this.counts).length > 0)
      this.observer(tenant, this.counts);
  }
}

function asString(value: unknown, field: string): string {
  if (typeof value !== "string") throw new RedactionError(`redacted ${field} is not a string`);
  return value;
}

function asResource(value: unknown): ResourceRef {
  const r = value as Partial<Record<keyof ResourceRef, unknown>> | null;
  if (r === null || typeof r !== "object" || typeof r.kind !== "string" || typeof r.name !== "string") {
    throw new RedactionError("redacted resource lost its shape");
  }
  return value as ResourceRef;
}

function asStringRecord(value: unknown): Readonly<Record<string, string>> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new RedactionError("redacted headers lost their shape");
  }
  for (const v of Object.values(value)) {
    if (typeof v !== "string") throw new RedactionError("redacted headers lost their shape");
  }
  return value as Readonly<Record<string, string>>;
}
