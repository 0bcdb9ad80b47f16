/**
 * Who clicked, as far as the tenant's policy needs to know: always the Slack user id; the e-mail
 * (`users.info`) only when some role lists e-mails; user group memberships
 * (`usergroups.users.list`) only when some role lists groups, and only for the groups roles name.
 * Answers are cached for `slackLookupCachePolicy.ttlMs`, so a burst of clicks costs one lookup, and
 * every lookup is bounded so a click is answered within Slack's 3 s.
 *
 * A user id comes from the verified `block_actions` payload (intake checked the signature), so it is
 * trusted; an e-mail is trusted because Slack returns it for that id.
 */
import type { ApprovalPolicyConfig } from "../config/config.ts";
import type { SlackApi } from "../destinations/slack/slack-api.ts";
import { type Clock, systemClock } from "../ports/clock.ts";
import type { Principal } from "./decide.ts";

/**
 * Lookups are cached 5 minutes (a role change in Slack reaches approvals within that), at most
 * 10 000 entries (then the oldest go); one lookup may take 2 s, leaving a click's 3 s budget room
 * for the store write.
 */
export const slackLookupCachePolicy = {
  ttlMs: 5 * 60_000,
  maxEntries: 10_000,
  lookupTimeoutMs: 2_000,
} as const;

interface Cached<T> {
  readonly value: T;
  readonly until: number;
}

/** A small TTL cache; insertion order approximates age, so the first keys are dropped first. */
class TtlCache<T> {
  private readonly entries = new Map<string, Cached<T>>();
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.clock.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

export class PrincipalResolver {
  private readonly slack: SlackApi;
  private readonly emails: TtlCache<string | null>;
  private readonly groups: TtlCache<ReadonlySet<string>>;

  constructor(slack: SlackApi, clock: Clock = systemClock, policy = slackLookupCachePolicy) {
    this.slack = slack;
    this.emails = new TtlCache(clock, policy.ttlMs, policy.maxEntries);
    this.groups = new TtlCache(clock, policy.ttlMs, policy.maxEntries);
  }

  /**
   * @throws whatever the SlackApi throws for a failed lookup (our error vocabulary); the caller
   *   answers the user and changes nothing.
   */
  async resolve(slackUserId: string, policy: ApprovalPolicyConfig): Promise<Principal> {
    const signal = AbortSignal.timeout(slackLookupCachePolicy.lookupTimeoutMs);
    const [email, groups] = await Promise.all([
      policy.usesEmails ? this.emailOf(slackUserId, signal) : undefined,
      policy.usesGroups ? this.groupsOf(slackUserId, policy, signal) : [],
    ]);
    return { slackUserId, ...(email ? { email } : {}), groups };
  }

  private async emailOf(userId: string, signal: AbortSignal): Promise<string | undefined> {
    let email = this.emails.get(userId);
    if (email === undefined) {
      const user = await this.slack.userInfo(userId, signal);
      email = user.email?.toLowerCase() ?? null;
      this.emails.set(userId, email);
    }
    return email ?? undefined;
  }

  private async groupsOf(
    userId: string,
    policy: ApprovalPolicyConfig,
    signal: AbortSignal,
  ): Promise<string[]> {
    const named = [...new Set(policy.roles.flatMap((role) => role.groups))];
    const members = await Promise.all(
      named.map(async (group) => {
        let set = this.groups.get(group);
        if (set === undefined) {
          set = new Set(await this.slack.userGroupMembers(group, signal));
          this.groups.set(group, set);
        }
        return set.has(userId) ? group : undefined;
      }),
    );
    return members.filter((group) => group !== undefined);
  }
}
