/**
 * Destination `type: servicenow`: one incident per fingerprint, kept in step with the events.
 *
 * The incident's `correlation_id` is the event's ticket fingerprint (`zen-<32 hex>`,
 * tickets/ticket-identity.ts), so every retry, redelivery, second worker or re-fired alert finds the
 * incident it belongs to instead of opening another. Per delivery, holding the incident lock
 * (tickets/ticket-lock.ts: in-process mutex + KeyStore claim), with the newest incident of that
 * correlation id:
 *
 * | event | newest incident | action |
 * |---|---|---|
 * | resolved | open (any state but 6/7/8) | set state 6 with `close_code` (config) and `close_notes` |
 * | resolved | none, or already 6/7/8 | nothing (success) |
 * | firing | open | add a work note (fields are left as they are) |
 * | firing | open, created by this very event | nothing: an earlier attempt created it and its answer was lost |
 * | firing | Resolved (6) and `reopenOnRecurrence` | state 2 (In Progress) and a work note |
 * | firing | none; Resolved without `reopenOnRecurrence`; Closed (7); Canceled (8) | create a new incident |
 *
 * Redaction (redaction/redact-delivery.ts): the correlation id and "resolved or not" come from the
 * event as received; every text written to ServiceNow from the event after layer 1; every create and
 * update body passes layer 2 as serialized JSON. `short_description` and `description` come from the
 * destination's templates (defaults reproduce render-incident.ts); a custom description that drops
 * the `Event ID:` line gets it appended, since retries look for it.
 *
 * Why a Closed or Canceled incident is never reopened: in ServiceNow's state model Closed is final
 * (only Resolved can be reopened; closed records are usually read-only by ACL) and Canceled was a
 * human decision. A new incident with the same correlation id is opened instead; being the newest,
 * it is the one later events find.
 */
import type { ServiceNowDestinationConfig } from "../../config/config.ts";
import { ConfigError } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import type { Clock } from "../../ports/clock.ts";
import type { CompiledRedactionPolicy } from "../../redaction/policy.ts";
import { AttemptRedaction, type RedactionObserver } from "../../redaction/redact-delivery.ts";
import { templateContext } from "../../templates/template-context.ts";
import type { CompiledTemplateSet } from "../../templates/template-set.ts";
import { fingerprintLabel, isResolvedEvent, ticketFingerprint } from "../../tickets/ticket-identity.ts";
import { type TicketLockPolicy, TicketLocks } from "../../tickets/ticket-lock.ts";
import { attemptSignal } from "../attempt-signal.ts";
import type { ProviderDestinationDeps } from "../create-destination.ts";
import { deliveryRef } from "../delivery-ref.ts";
import type { DeliveryRequest, Destination, SendResult } from "../destination.ts";
import { renderTemplatePart } from "../render-template.ts";
import { createTemplateChooser, type TemplateChooser } from "../route-templates.ts";
import type { WebhookEgressPolicy } from "../webhook/egress-policy.ts";
import {
  eventIdLine,
  type IncidentTexts,
  renderIncidentNotes,
  shortDescriptionLine,
  withEventIdLine,
} from "./render-incident.ts";
import {
  fieldValue,
  ServiceNowClient,
  type ServiceNowFields,
  type ServiceNowRecord,
} from "./servicenow-client.ts";

/** Incident `state` codes (providers.md §3.4). */
export const incidentState = {
  new: "1",
  inProgress: "2",
  onHold: "3",
  resolved: "6",
  closed: "7",
  canceled: "8",
} as const;

/** `correlation_display`: shows operators which integration owns the correlation id. */
export const correlationDisplay = "zen-integrations";

/** What one delivery did to ServiceNow (tests and logs). */
export type IncidentAction = "created" | "updated" | "reopened" | "resolved" | "unchanged";

/** The states in which an incident is over: Resolved, Closed, Canceled. */
const finishedStates: ReadonlySet<string> = new Set([
  incidentState.resolved,
  incidentState.closed,
  incidentState.canceled,
]);

/**
 * True unless the incident is Resolved, Closed or Canceled: New, In Progress, On Hold, and any state
 * an instance added (custom states are still being worked, so repeats go there, not to a new one).
 */
export function isOpenState(state: string): boolean {
  return !finishedStates.has(state);
}

/** Fields the destination reads back: enough to decide, small enough to ignore. */
const lookupFields = ["sys_id", "number", "state", "description"] as const;
const answerFields = ["sys_id", "number", "state"] as const;

export interface ServiceNowDestinationOptions {
  readonly config: ServiceNowDestinationConfig;
  readonly deps: ProviderDestinationDeps;
  /** Overrides of the client's egress policy (tests shorten timeouts). */
  readonly egress?: Partial<WebhookEgressPolicy>;
  readonly lockPolicy?: TicketLockPolicy;
}

/** What `createDestination` calls for `type: servicenow`. @throws ConfigError for an unusable config. */
export function createServiceNowDestination(
  config: ServiceNowDestinationConfig,
  deps: ProviderDestinationDeps,
): ServiceNowDestination {
  return new ServiceNowDestination({ config, deps });
}

export class ServiceNowDestination implements Destination {
  readonly type = "servicenow";
  readonly id: string;
  readonly tenant: string;
  /** The action of the last successful send (for tests). */
  lastAction: IncidentAction | undefined;
  private readonly config: ServiceNowDestinationConfig;
  private readonly client: ServiceNowClient;
  private readonly lock: TicketLocks;
  private readonly clock: Clock;
  private readonly attemptDeadlineMs: number;
  private readonly redaction: CompiledRedactionPolicy | undefined;
  private readonly onRedactions: RedactionObserver | undefined;
  /** The templates of a delivery: a matching route's, else the destination's, else the defaults. */
  private readonly templates: TemplateChooser<"servicenow">;

  constructor(options: ServiceNowDestinationOptions) {
    const { config, deps } = options;
    this.id = config.id;
    this.tenant = config.tenant;
    this.config = config;
    const field = `tenants.${config.tenant}.destinations.${config.id}`;
    if (!/^[A-Za-z0-9_]{1,80}$/.test(config.table)) {
      throw new ConfigError([`${field}.table: not a ServiceNow table name`]);
    }
    try {
      new URL(config.connection.instanceUrl);
    } catch {
      throw new ConfigError([`${field}: the ServiceNow instance is not a valid URL`]);
    }
    this.clock = deps.clock;
    this.client = new ServiceNowClient({
      connection: config.connection,
      maxRetryAfterMs: deps.maxRetryAfterMs,
      clock: deps.clock,
      connectorFactory: deps.connectorFactory,
      ...(deps.dispatcherFactory ? { dispatcherFactory: deps.dispatcherFactory } : {}),
      ...(options.egress ? { egress: options.egress } : {}),
    });
    this.lock = new TicketLocks(deps.keys, options.lockPolicy);
    this.redaction = deps.redaction;
    this.onRedactions = deps.onRedactions;
    this.templates = createTemplateChooser(config, deps.routes);
    const policyDeadline = this.client.egress.attemptDeadlineMs;
    // The whole attempt (lookup + create/update) shares one deadline; config may only shorten it.
    this.attemptDeadlineMs =
      config.timeoutMs > 0 ? Math.min(config.timeoutMs, policyDeadline) : policyDeadline;
  }

  /**
   * Creates, updates, reopens or resolves the event's incident (see the table in the file header).
   * @throws DeferredError `lock_busy` when another process holds the incident's lock; otherwise
   *   the mapped ServiceNow failure (servicenow-errors.ts) or network failure; `redaction_failed`
   *   (nothing sent); `template_render_failed`.
   */
  async send(delivery: DeliveryRequest, signal: AbortSignal): Promise<SendResult> {
    const startedAt = this.clock.now();
    const { event } = delivery;
    const fingerprint = ticketFingerprint(event, this.config);
    const redaction = new AttemptRedaction(event, this.redaction, this.onRedactions);
    const attempt = attemptSignal(signal, this.attemptDeadlineMs);
    try {
      const texts = this.render(this.templates(event), redaction.event, deliveryRef(delivery.idempotencyKey));
      const lockKey = `sn-lock:${this.tenant}:${this.id}:${fingerprint}`;
      const { action, statusCode } = await this.lock.withLock(lockKey, attempt.signal, () =>
        this.apply(event, texts, redaction, fingerprintLabel(fingerprint), attempt.signal),
      );
      this.lastAction = action;
      return { statusCode, durationMs: Math.max(0, this.clock.now() - startedAt) };
    } finally {
      attempt.dispose();
      redaction.report(this.tenant);
    }
  }

  /** The incident's texts from the redacted event: templates for the two descriptions, fixed notes. */
  private render(templates: CompiledTemplateSet<"servicenow">, event: ZenEvent, ref: string): IncidentTexts {
    const context = templateContext(event, { ref });
    return {
      shortDescription: shortDescriptionLine(renderTemplatePart(templates.short_description, context)),
      description: withEventIdLine(renderTemplatePart(templates.description, context), event),
      ...renderIncidentNotes(event),
    };
  }

  /** @param event as received: identity and state decisions; `texts` hold what is written. */
  private async apply(
    event: ZenEvent,
    texts: IncidentTexts,
    redaction: AttemptRedaction,
    correlationId: string,
    signal: AbortSignal,
  ): Promise<{ action: IncidentAction; statusCode: number }> {
    const { table } = this.config;
    const filter = (json: string) => redaction.body(json);
    const found = await this.client.findByCorrelationId(table, correlationId, signal, {
      fields: lookupFields,
    });
    const sysId = found ? fieldValue(found, "sys_id") : "";
    const state = found ? fieldValue(found, "state") : "";
    const open = found !== undefined && isOpenState(state);

    if (isResolvedEvent(event, this.config)) {
      if (!open) return { action: "unchanged", statusCode: 200 };
      await this.update(
        sysId,
        {
          state: incidentState.resolved,
          close_code: this.config.closeCode,
          close_notes: texts.closeNotes,
        },
        filter,
        signal,
      );
      return { action: "resolved", statusCode: 200 };
    }
    if (open && found) {
      if (createdBy(found, event)) return { action: "unchanged", statusCode: 200 };
      await this.update(sysId, { work_notes: texts.repeatNote }, filter, signal);
      return { action: "updated", statusCode: 200 };
    }
    if (found && state === incidentState.resolved && this.config.reopenOnRecurrence) {
      await this.update(
        sysId,
        { state: incidentState.inProgress, work_notes: texts.reopenNote },
        filter,
        signal,
      );
      return { action: "reopened", statusCode: 200 };
    }
    await this.client.create(table, this.newIncident(event, correlationId, texts), signal, {
      fields: answerFields,
      filter,
    });
    return { action: "created", statusCode: 201 };
  }

  private update(
    sysId: string,
    fields: ServiceNowFields,
    filter: (json: string) => string,
    signal: AbortSignal,
  ): Promise<ServiceNowRecord> {
    return this.client.update(this.config.table, sysId, fields, signal, { fields: answerFields, filter });
  }

  private newIncident(event: ZenEvent, correlationId: string, texts: IncidentTexts): ServiceNowFields {
    const fields: Record<string, string> = {
      short_description: texts.shortDescription,
      description: texts.description,
      correlation_id: correlationId,
      correlation_display: correlationDisplay,
    };
    const urgency = event.severity ? this.config.urgencyBySeverity[event.severity] : undefined;
    const impact = event.severity ? this.config.impactBySeverity[event.severity] : undefined;
    // Without a severity ServiceNow's own defaults apply (3/3 → priority 5 on a stock instance).
    if (urgency) fields.urgency = urgency;
    if (impact) fields.impact = impact;
    if (this.config.assignmentGroup) fields.assignment_group = this.config.assignmentGroup;
    if (this.config.callerId) fields.caller_id = this.config.callerId;
    if (this.config.category) fields.category = this.config.category;
    return fields;
  }

  /** Closes the client's connection pool (idempotent). */
  close(): Promise<void> {
    return this.client.close();
  }
}

/** True when `incident` was opened by this very event (its description names the event id). */
function createdBy(incident: ServiceNowRecord, event: ZenEvent): boolean {
  return fieldValue(incident, "description").split("\n").includes(eventIdLine(event));
}
