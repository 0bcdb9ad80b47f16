/**
 * Jira destination (`type: jira`): one issue per incident, never two.
 *
 *   fingerprint → lock → search open issue by label ─┬─ resolved event: transition (resolveTransition) + comment
 *                                                    ├─ found: comment ("fired again")
 *                                                    ├─ none, reopenOnRecurrence: newest Done issue → reopen + comment
 *                                                    └─ none: create (label carries the fingerprint)
 *
 * Why no duplicates: every issue we create carries the deterministic label `zen-<hash>` of the event's
 * fingerprint (ticket-identity.ts), and the search-then-create runs under a per-fingerprint lock held
 * in this process and in the shared KeyStore (tickets/ticket-lock.ts), so neither a retry, nor a re-fired
 * alert, nor a second worker can create a second issue. A retry whose earlier attempt got through
 * (answer lost) finds its own delivery ref in the issue and does nothing.
 *
 * Redaction (redaction/redact-delivery.ts): the ticket's identity (fingerprint, resolved or not) comes
 * from the event as received, everything written to Jira from the event after layer 1, and every
 * body that carries event content (create, comment) passes layer 2 as serialized ADF JSON. Summary and
 * description come from the destination's templates (`summary`, `description`; defaults in
 * templates/defaults.ts reproduce render-jira-issue.ts); a custom description that drops the
 * delivery ref gets it appended, since retries look for it.
 *
 * Jira Cloud's search index is eventually consistent: an issue created a moment ago may not be found
 * yet. So the key of the issue we last created or reopened per fingerprint is remembered in the
 * KeyStore for a while, and read directly (`GET /issue`, which is consistent) when the search comes
 * back empty.
 */
import type { JiraDestinationConfig, RouteConfig } from "../../config/config.ts";
import { PermanentError } from "../../domain/errors.ts";
import type { ZenEvent } from "../../domain/event.ts";
import type { Clock } from "../../ports/clock.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import type { CompiledRedactionPolicy } from "../../redaction/policy.ts";
import { AttemptRedaction, type RedactionObserver } from "../../redaction/redact-delivery.ts";
import { templateContext } from "../../templates/template-context.ts";
import type { CompiledTemplateSet } from "../../templates/template-set.ts";
import { fingerprintLabel, isResolvedEvent, ticketFingerprint } from "../../tickets/ticket-identity.ts";
import { TicketLocks } from "../../tickets/ticket-lock.ts";
import { attemptSignal } from "../attempt-signal.ts";
import type { ProviderDestinationDeps } from "../create-destination.ts";
import { deliveryRef } from "../delivery-ref.ts";
import type { DeliveryRequest, Destination, SendResult } from "../destination.ts";
import { renderTemplatePart } from "../render-template.ts";
import { createTemplateChooser, type TemplateChooser } from "../route-templates.ts";
import { adfPlainText, toAdf } from "./adf.ts";
import { JiraClient, type JiraIssueFields, type JiraIssueSummary, jiraEgressPolicy } from "./jira-client.ts";
import { type CommentKind, renderJiraComment, summaryLine, withDeliveryRef } from "./render-jira-issue.ts";

/** What one delivery did in Jira (for tests and the result's status code). */
export type JiraAction =
  | { readonly kind: "created"; readonly key: string }
  | { readonly kind: "commented"; readonly key: string }
  | { readonly kind: "resolved"; readonly key: string }
  | { readonly kind: "reopened"; readonly key: string }
  | { readonly kind: "already_done"; readonly key: string }
  | { readonly kind: "nothing_to_resolve" };

/** The label every issue we create carries, besides the fingerprint label and the configured ones. */
export const zenLabel = "zen";

/**
 * How long the key of the issue last created/reopened per fingerprint is remembered: Jira's search
 * index usually catches up within seconds; 15 minutes covers a slow reindex with a wide margin.
 */
export const recentIssueTtlMs = 15 * 60_000;

export interface JiraDestinationOptions {
  readonly config: JiraDestinationConfig;
  readonly client: JiraClient;
  readonly locks: TicketLocks;
  /** Shared keys for the recent-issue memo; undefined: rely on the search alone. */
  readonly keys: KeyStore | undefined;
  readonly clock: Clock;
  /** Hard deadline of one send (all its Jira calls and lock waits), ms. */
  readonly attemptDeadlineMs: number;
  /** Both redaction layers' policy; undefined only when the config says `redact: false`. */
  readonly redaction: CompiledRedactionPolicy | undefined;
  readonly onRedactions?: RedactionObserver;
  /** The tenant's routes: one may give this destination its own templates (route-templates.ts). */
  readonly routes?: readonly RouteConfig[];
}

/**
 * Builds the destination from its config (the entry `createDestination` calls).
 * @throws ConfigError for an unusable connection URL.
 */
export function createJiraDestination(
  config: JiraDestinationConfig,
  deps: ProviderDestinationDeps,
): JiraDestination {
  const client = new JiraClient({
    connection: config.connection,
    connectorFactory: deps.connectorFactory,
    maxRetryAfterMs: deps.maxRetryAfterMs,
    clock: deps.clock,
    ...(deps.dispatcherFactory && { dispatcherFactory: deps.dispatcherFactory }),
  });
  return new JiraDestination({
    config,
    client,
    locks: new TicketLocks(deps.keys),
    keys: deps.keys,
    clock: deps.clock,
    // The destination's timeout may shorten the attempt, never lengthen it past the egress policy.
    attemptDeadlineMs:
      config.timeoutMs > 0
        ? Math.min(config.timeoutMs, jiraEgressPolicy.attemptDeadlineMs)
        : jiraEgressPolicy.attemptDeadlineMs,
    redaction: deps.redaction,
    ...(deps.onRedactions && { onRedactions: deps.onRedactions }),
    ...(deps.routes && { routes: deps.routes }),
  });
}

/** What one attempt sends: texts from the event after layer 1, and layer 2 for each body. */
interface Rendering {
  readonly event: ZenEvent;
  readonly ref: string;
  /** The issue's summary and description (light Markdown), rendered before any Jira call. */
  readonly summary: string;
  readonly description: string;
  readonly redaction: AttemptRedaction;
}

export class JiraDestination implements Destination {
  readonly type = "jira";
  readonly id: string;
  readonly tenant: string;
  private readonly config: JiraDestinationConfig;
  private readonly client: JiraClient;
  private readonly locks: TicketLocks;
  private readonly keys: KeyStore | undefined;
  private readonly clock: Clock;
  private readonly attemptDeadlineMs: number;
  private readonly redaction: CompiledRedactionPolicy | undefined;
  private readonly onRedactions: RedactionObserver | undefined;
  /** The templates of a delivery: a matching route's, else the destination's, else the defaults. */
  private readonly templates: TemplateChooser<"jira">;

  constructor(options: JiraDestinationOptions) {
    this.config = options.config;
    this.id = options.config.id;
    this.tenant = options.config.tenant;
    this.client = options.client;
    this.locks = options.locks;
    this.keys = options.keys;
    this.clock = options.clock;
    this.attemptDeadlineMs = options.attemptDeadlineMs;
    this.redaction = options.redaction;
    this.onRedactions = options.onRedactions;
    this.templates = createTemplateChooser(options.config, options.routes);
  }

  /**
   * Creates, comments, resolves or reopens the incident's issue (see the module header).
   * @throws RetryableError / RetryAfterError / PermanentError from the Jira client (`jiraFailure`),
   *   `DeferredError` (`lock_busy`) when another worker holds the incident's lock, `validation_failed` when the
   *   configured transition does not exist, `redaction_failed` (nothing sent), `template_render_failed`.
   */
  async send(delivery: DeliveryRequest, signal: AbortSignal): Promise<SendResult> {
    const startedAt = this.clock.now();
    const redaction = new AttemptRedaction(delivery.event, this.redaction, this.onRedactions);
    const attempt = attemptSignal(signal, this.attemptDeadlineMs);
    try {
      const templates = this.templates(delivery.event);
      const rendering = this.render(templates, redaction, deliveryRef(delivery.idempotencyKey));
      const action = await this.apply(delivery, rendering, attempt.signal);
      return { statusCode: statusOf(action), durationMs: Math.max(0, this.clock.now() - startedAt) };
    } finally {
      attempt.dispose();
      redaction.report(this.tenant);
    }
  }

  /** Summary and description from the templates, with the redacted event: a failing template sends nothing. */
  private render(
    templates: CompiledTemplateSet<"jira">,
    redaction: AttemptRedaction,
    ref: string,
  ): Rendering {
    const { event } = redaction;
    const context = templateContext(event, { ref });
    return {
      event,
      ref,
      summary: summaryLine(renderTemplatePart(templates.summary, context)),
      description: withDeliveryRef(renderTemplatePart(templates.description, context), ref),
      redaction,
    };
  }

  /** The Jira side of one delivery, under the incident's lock. Identity comes from the event as received. */
  private async apply(
    delivery: DeliveryRequest,
    rendering: Rendering,
    signal: AbortSignal,
  ): Promise<JiraAction> {
    const { event } = delivery;
    const fingerprint = ticketFingerprint(event, this.config);
    const label = fingerprintLabel(fingerprint);
    const scope = `${this.tenant}:${this.id}:${fingerprint}`;
    return this.locks.withLock(`jira-lock:${scope}`, signal, () =>
      this.upsert(delivery, rendering, label, `jira-issue:${scope}`, signal),
    );
  }

  private async upsert(
    delivery: DeliveryRequest,
    rendering: Rendering,
    label: string,
    memoKey: string,
    signal: AbortSignal,
  ): Promise<JiraAction> {
    const { event } = delivery;
    const { ref } = rendering;
    const project = this.config.project;
    const [found] = await this.client.searchByLabel(label, { statusCategory: "open", project }, signal);
    const recent = found ? undefined : await this.recentIssue(memoKey, signal);
    const open = found ?? (recent && recent.status?.categoryKey !== "done" ? recent : undefined);

    if (isResolvedEvent(event, this.config)) {
      // Nothing open: never opened, or an earlier attempt of this delivery already resolved it.
      if (!open) return { kind: "nothing_to_resolve" };
      // Transition first, then comment: a retry after a lost answer finds nothing open and stops,
      // instead of commenting twice.
      await this.client.doTransition(open.key, this.config.resolveTransition, signal);
      await this.comment(open.key, rendering, "resolved", signal);
      return { kind: "resolved", key: open.key };
    }

    if (open) {
      if (await this.alreadyDelivered(open, delivery, ref, signal))
        return { kind: "already_done", key: open.key };
      await this.comment(open.key, rendering, "repeat", signal);
      return { kind: "commented", key: open.key };
    }

    if (this.config.reopenOnRecurrence) {
      const [done = recent] = await this.client.searchByLabel(
        label,
        { statusCategory: "done", project },
        signal,
      );
      if (done) {
        await this.client.doTransition(done.key, this.config.reopenTransition, signal);
        await this.remember(memoKey, done.key);
        await this.comment(done.key, rendering, "reopened", signal);
        return { kind: "reopened", key: done.key };
      }
    }

    const created = await this.client.createIssue(this.issueFields(rendering, label), signal, (json) =>
      rendering.redaction.body(json),
    );
    await this.remember(memoKey, created.key);
    return { kind: "created", key: created.key };
  }

  /** The remembered issue of this fingerprint with its current status, if any and if it still exists. */
  private async recentIssue(memoKey: string, signal: AbortSignal): Promise<JiraIssueSummary | undefined> {
    const key = await this.keys?.get(memoKey);
    if (key === undefined || key === "") return undefined;
    try {
      const status = await this.client.getIssueStatus(key, signal);
      return { id: "", key, ...(status && { status }) };
    } catch (err) {
      // Deleted or moved out of sight since: forget it and trust the search.
      if (err instanceof PermanentError && err.reason === "not_found") {
        await this.keys?.delete(memoKey);
        return undefined;
      }
      throw err;
    }
  }

  /** Best effort: the issue exists either way, and the search finds it once Jira's index caught up. */
  private async remember(memoKey: string, issueKey: string): Promise<void> {
    try {
      await this.keys?.set(memoKey, issueKey, recentIssueTtlMs);
    } catch {
      // A failing store must not turn a created issue into a failed (and retried) delivery.
    }
  }

  /** The create body: project, type, summary, ADF description, priority by severity, labels. */
  private issueFields(rendering: Rendering, label: string): JiraIssueFields {
    const { event, summary, description } = rendering;
    const priority =
      event.severity === undefined ? undefined : this.config.priorityBySeverity[event.severity];
    const labels = [...new Set([...this.config.labels, label, zenLabel])];
    return {
      project: { key: this.config.project },
      summary,
      issuetype: { name: this.config.issueType },
      description: toAdf(description),
      ...(priority !== undefined && { priority: { name: priority } }),
      labels,
    };
  }

  private comment(key: string, rendering: Rendering, kind: CommentKind, signal: AbortSignal) {
    const body = toAdf(renderJiraComment(rendering.event, kind, rendering.ref));
    return this.client.addComment(key, body, signal, (json) => rendering.redaction.body(json));
  }

  /**
   * On a retry only: did an earlier attempt of this delivery already create or comment on `issue`
   * (its answer lost to a timeout or a 5xx)? Looks for the delivery ref in the description and the
   * comments; the first attempt skips the extra call.
   */
  private async alreadyDelivered(
    issue: JiraIssueSummary,
    delivery: DeliveryRequest,
    ref: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (delivery.attempt <= 1) return false;
    const { fields } = await this.client.getIssue(issue.key, ["description", "comment"], signal);
    if (adfPlainText(fields.description).includes(ref)) return true;
    const comments = (fields.comment as { comments?: unknown } | undefined)?.comments;
    return (
      Array.isArray(comments) &&
      comments.some((c) => adfPlainText((c as { body?: unknown }).body).includes(ref))
    );
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function statusOf(action: JiraAction): number {
  switch (action.kind) {
    case "created":
    case "commented":
    case "reopened":
      return 201;
    case "resolved":
      return 204;
    case "already_done":
    case "nothing_to_resolve":
      return 200;
    default: {
      const _exhaustive: never = action;
      return _exhaustive;
    }
  }
}
