/** The Queue port, served by the SQLite store worker (see src/ports/queue.ts for the contract). */
import type { ZenEvent } from "../../../domain/event.ts";
import type {
  DeadLetterOptions,
  DlqEntryWithEvent,
  DlqFilter,
  DlqPage,
  EnqueueResult,
  Job,
  LeasedJob,
  LeaseOptions,
  LeaseResult,
  Queue,
  QueueStats,
  RescheduleOptions,
  Submission,
} from "../../../ports/queue.ts";
import type { StoreChannel } from "./store-channel.ts";

/** How long `ping` waits for the worker before answering false (a wedged worker fails /ready). */
export const pingTimeoutMs = 5_000;

/**
 * Forwards every call to the `SqliteQueue` in the worker, so the semantics are that adapter's.
 * `onEnqueued` listeners run on this thread when the worker reports a commit that added jobs, before
 * the call that made it resolves.
 */
export class RemoteQueue implements Queue {
  private readonly channel: StoreChannel;
  private readonly subscriptions = new Set<() => void>();

  constructor(channel: StoreChannel) {
    this.channel = channel;
  }

  enqueue(submission: Submission): Promise<EnqueueResult> {
    return this.channel.call("queue", "enqueue", [submission]);
  }

  lease(options: LeaseOptions): Promise<LeaseResult> {
    return this.channel.call("queue", "lease", [options]);
  }

  complete(job: LeasedJob): Promise<boolean> {
    return this.channel.call("queue", "complete", [job]);
  }

  reschedule(job: LeasedJob, options: RescheduleOptions): Promise<boolean> {
    return this.channel.call("queue", "reschedule", [job, options]);
  }

  release(job: LeasedJob): Promise<boolean> {
    return this.channel.call("queue", "release", [job]);
  }

  deadLetter(job: LeasedJob, options: DeadLetterOptions): Promise<boolean> {
    return this.channel.call("queue", "deadLetter", [job, options]);
  }

  nextWakeAt(): Promise<number | undefined> {
    return this.channel.call("queue", "nextWakeAt", []);
  }

  stats(): Promise<QueueStats> {
    return this.channel.call("queue", "stats", []);
  }

  getEvent(tenant: string, eventId: string, source?: string): Promise<ZenEvent | undefined> {
    return this.channel.call("queue", "getEvent", [tenant, eventId, source]);
  }

  jobsOfEvent(tenant: string, eventId: string, source?: string): Promise<readonly Job[]> {
    return this.channel.call("queue", "jobsOfEvent", [tenant, eventId, source]);
  }

  listDlq(filter: DlqFilter, page: { limit: number; cursor?: string }): Promise<DlqPage> {
    return this.channel.call("queue", "listDlq", [filter, page]);
  }

  getDlq(id: string): Promise<DlqEntryWithEvent | undefined> {
    return this.channel.call("queue", "getDlq", [id]);
  }

  replayDlq(selector: { id: string } | { filter: DlqFilter }): Promise<number> {
    return this.channel.call("queue", "replayDlq", [selector]);
  }

  purgeDlq(selector: { id: string } | { filter: DlqFilter }): Promise<number> {
    return this.channel.call("queue", "purgeDlq", [selector]);
  }

  prune(options: { dlqRetentionMs: number }): Promise<{ dedupeKeys: number; dlq: number; events: number }> {
    return this.channel.call("queue", "prune", [options]);
  }

  onEnqueued(listener: () => void): () => void {
    const unsubscribe = this.channel.onEnqueued(listener);
    this.subscriptions.add(unsubscribe);
    return () => {
      this.subscriptions.delete(unsubscribe);
      unsubscribe();
    };
  }

  /** False when the worker is gone or does not answer within {@link pingTimeoutMs}. */
  async ping(): Promise<boolean> {
    if (!this.channel.alive) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), pingTimeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.channel.call("queue", "ping", []), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Commits pending writes and drops listeners; the store file stays open (`close` of the stores). */
  async close(): Promise<void> {
    for (const unsubscribe of this.subscriptions) unsubscribe();
    this.subscriptions.clear();
    if (this.channel.alive) await this.channel.call("queue", "close", []);
  }
}
