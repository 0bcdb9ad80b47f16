/**
 * Builds the approvals feature for the service (service.ts only calls this): the store file, the
 * flow, the admin routes' options and the expiry sweeper. Nothing is built, and no file is created,
 * when no tenant has an `approvals:` policy.
 */
import { SqliteApprovalStore } from "../adapters/sqlite/approval-store.ts";
import type { ApprovalRoutesOptions } from "../admin/approval-routes.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { ApprovalStore } from "../ports/approval-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { Queue } from "../ports/queue.ts";
import type { ApprovalRuntime } from "./approval-destination.ts";
import { ApprovalTelemetry } from "./approval-telemetry.ts";
import { Approvals, approvalHousekeepingPolicy } from "./approvals.ts";
import type { TenantSlackClients } from "./tenant-slack.ts";

export interface ApprovalsModule {
  /** The `zen_approval:` click handler (`BlockActionsHandler`) and the admin request entry. */
  readonly approvals: Approvals;
  readonly store: ApprovalStore;
  /** For `createDestination` (`approval` destinations). */
  readonly runtime: ApprovalRuntime;
  /** Without the admin token, for `buildApp`: it adds the token. */
  readonly routes: Omit<ApprovalRoutesOptions, "adminToken">;
  /** Starts the expiry sweeper (`approvalHousekeepingPolicy.sweepIntervalMs`). */
  start(): void;
  /** Stops the sweeper, waits for background message updates, closes the store and the Slack client. */
  close(): Promise<void>;
}

export interface StartApprovalsOptions {
  readonly config: Config;
  readonly queue: Queue;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The Slack Web API client of each tenant (its bot token), to post, look up users and respond. */
  readonly slack: TenantSlackClients;
  /** Default: `SqliteApprovalStore` on `<dataDir>/approvals.db`. */
  readonly store?: ApprovalStore;
}

/** @returns undefined when no tenant has an approvals policy. */
export function startApprovals(options: StartApprovalsOptions): ApprovalsModule | undefined {
  const { config, logger, clock, slack } = options;
  const tenants = [...config.tenants.values()].filter((tenant) => tenant.approvals !== undefined);
  if (tenants.length === 0) return undefined;
  const withoutSlack = tenants.filter((tenant) => slack.forTenant(tenant.id) === undefined);
  if (withoutSlack.length > 0) {
    logger.warn(
      { tenants: withoutSlack.map((t) => t.id) },
      "approvals are configured but SLACK_BOT_TOKEN is not: requests are stored, their Slack posts dead-letter (invalid_auth)",
    );
  }
  const store =
    options.store ??
    new SqliteApprovalStore({ dir: config.dataDir, synchronous: config.queue.sqliteSynchronous });
  const telemetry = new ApprovalTelemetry(options.metrics.registry, logger);
  const approvals = new Approvals({ config, store, queue: options.queue, slack, telemetry, logger, clock });
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let closing: Promise<void> | undefined;
  return {
    approvals,
    store,
    runtime: approvals.runtime,
    routes: { approvals, store },
    start() {
      if (sweeper) return;
      sweeper = setInterval(() => {
        approvals
          .sweep()
          .then((expired) => {
            if (expired > 0) logger.info({ expired }, "approvals past their expiry marked expired");
          })
          .catch((err: unknown) => logger.error({ err }, "approvals sweep failed"));
      }, approvalHousekeepingPolicy.sweepIntervalMs);
      sweeper.unref();
    },
    close() {
      closing ??= (async () => {
        if (sweeper) clearInterval(sweeper);
        await approvals.close();
        await store.close();
        await slack.close();
      })();
      return closing;
    },
  };
}
