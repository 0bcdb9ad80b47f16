/**
 * Every `zen_` metric in one place, on an injected prom-client Registry (tests get their own).
 * Label values are bounded: tenant/source/destination ids come from config, reasons and outcomes from
 * the error vocabulary — never from request data.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RedactionCounts, RedactionKind } from "../redaction/kinds.ts";

export class Metrics {
  readonly registry: Registry;
  /** outcome: accepted | duplicate | <error code> */
  readonly intakeRequests: Counter<"tenant" | "source" | "outcome">;
  readonly verificationFailures: Counter<"tenant" | "source" | "reason">;
  readonly intakeLatency: Histogram<"outcome">;
  readonly enqueued: Counter<"tenant" | "destination">;
  /** outcome: delivered | retry | dead_lettered | released (interrupted by shutdown, requeued uncharged). Guard delays are in deliveryDelays. */
  readonly deliveries: Counter<"tenant" | "destination" | "outcome">;
  readonly attemptLatency: Histogram<"destination" | "outcome">;
  /** reason of the failed attempt that led to a retry (server_error, timeout, rate_limited, retry_after, …). */
  readonly retries: Counter<"destination" | "reason">;
  readonly deadLettered: Counter<"tenant" | "destination" | "reason">;
  readonly replayed: Counter<"tenant">;
  readonly queueDepth: Gauge<"state">;
  readonly dlqSize: Gauge;
  readonly commitBatchSize: Histogram;
  /** reason: rate_limited | circuit_open — delays are not failures and charge no attempt. */
  readonly deliveryDelays: Counter<"tenant" | "destination" | "reason">;
  /** 0 closed, 1 half-open, 2 open. */
  readonly circuitState: Gauge<"tenant" | "destination">;
  readonly circuitTransitions: Counter<"tenant" | "destination" | "from" | "to">;
  /** kind: a redaction kind (redaction/kinds.ts); both layers of every delivery attempt. */
  readonly redactions: Counter<"tenant" | "kind">;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.intakeRequests = new Counter({
      name: "zen_intake_requests_total",
      help: "Intake requests by tenant, source and outcome (accepted, duplicate or an error code).",
      labelNames: ["tenant", "source", "outcome"],
      registers,
    });
    this.verificationFailures = new Counter({
      name: "zen_verification_failures_total",
      help: "Requests refused by signature/timestamp/replay verification, by reason.",
      labelNames: ["tenant", "source", "reason"],
      registers,
    });
    this.intakeLatency = new Histogram({
      name: "zen_intake_duration_seconds",
      help: "Time from request received to response, by outcome.",
      labelNames: ["outcome"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.enqueued = new Counter({
      name: "zen_enqueued_total",
      help: "Delivery jobs created, by tenant and destination.",
      labelNames: ["tenant", "destination"],
      registers,
    });
    this.deliveries = new Counter({
      name: "zen_deliveries_total",
      help: "Delivery attempts by destination and outcome (delivered, retry, dead_lettered, released).",
      labelNames: ["tenant", "destination", "outcome"],
      registers,
    });
    this.attemptLatency = new Histogram({
      name: "zen_delivery_attempt_duration_seconds",
      help: "Duration of outbound delivery attempts.",
      labelNames: ["destination", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.retries = new Counter({
      name: "zen_retries_total",
      help: "Deliveries scheduled again, by destination and reason.",
      labelNames: ["destination", "reason"],
      registers,
    });
    this.deadLettered = new Counter({
      name: "zen_dead_lettered_total",
      help: "Deliveries moved to the DLQ, by reason.",
      labelNames: ["tenant", "destination", "reason"],
      registers,
    });
    this.replayed = new Counter({
      name: "zen_dlq_replayed_total",
      help: "DLQ entries requeued.",
      labelNames: ["tenant"],
      registers,
    });
    this.queueDepth = new Gauge({
      name: "zen_queue_depth",
      help: "Jobs in the queue by state (ready, delayed, leased).",
      labelNames: ["state"],
      registers,
    });
    this.dlqSize = new Gauge({ name: "zen_dlq_size", help: "Entries in the dead-letter queue.", registers });
    this.commitBatchSize = new Histogram({
      name: "zen_queue_commit_batch_size",
      help: "Submissions committed per group commit.",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.deliveryDelays = new Counter({
      name: "zen_delivery_delays_total",
      help: "Deliveries postponed by a guard without an attempt (reason: rate_limited, circuit_open).",
      labelNames: ["tenant", "destination", "reason"],
      registers,
    });
    this.circuitState = new Gauge({
      name: "zen_circuit_state",
      help: "Circuit breaker state per destination: 0 closed, 1 half-open, 2 open.",
      labelNames: ["tenant", "destination"],
      registers,
    });
    this.circuitTransitions = new Counter({
      name: "zen_circuit_transitions_total",
      help: "Circuit breaker transitions per destination.",
      labelNames: ["tenant", "destination", "from", "to"],
      registers,
    });
    this.redactions = new Counter({
      name: "zen_redactions_total",
      help: "Values redacted before delivery (both layers of every attempt), by tenant and kind.",
      labelNames: ["tenant", "kind"],
      registers,
    });
  }

  /** Adds one delivery attempt's redaction counts to `zen_redactions_total` (a `RedactionObserver`). */
  readonly recordRedactions = (tenant: string, counts: RedactionCounts): void => {
    for (const [kind, n] of Object.entries(counts) as [RedactionKind, number][]) {
      if (n > 0) this.redactions.inc({ tenant, kind }, n);
    }
  };
}
