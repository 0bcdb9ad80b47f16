/**
 * Which tenant a Slack request belongs to: the tenant whose `providers.slack.teams` lists the
 * request's workspace (`team_id` of events and commands, `team.id` of interaction payloads; the
 * Enterprise Grid id when no team matches), else tenant `default`.
 *
 * Threat model. The workspace id sits inside the body, and the body is attacker-controlled until its
 * signature is checked; so an attacker chooses the tenant. That is harmless as long as a request is
 * only ever accepted if it verifies with THAT tenant's own signing secrets:
 *
 * - the tenant is picked from the unverified body (`slackTeamOf*` below, using the same parsers the
 *   pipeline uses afterwards, so the verified body names the very same tenant), then
 * - intake verifies the raw bytes against that tenant's `slack` source only. There is no fallback to
 *   another tenant's secrets: a request naming acme's team but signed with default's secret (or the
 *   reverse) is refused with 401, so no tenant's app can inject into another tenant.
 * - A body whose team cannot be read goes to tenant `default`, and must then verify with its secret.
 * - Socket Mode (socket-mode.ts) applies the same rule to connections: an envelope is accepted only
 *   if its team resolves to the tenant whose app token opened the connection.
 *
 * Teams are unique across tenants (config/compile-slack.ts), so the map is unambiguous.
 */
import { defaultTenantId } from "../config/compile-tenants.ts";
import type { Config } from "../config/config.ts";
import { parseBody } from "../intake/parse-body.ts";

/** The workspace ids a request names. */
export interface SlackTeamIds {
  readonly team?: string;
  readonly enterprise?: string;
}

/** Team (or Enterprise Grid org) id → tenant id, from every tenant's `providers.slack.teams`. */
export class SlackTenantMap {
  private readonly owners = new Map<string, string>();

  constructor(config: Config) {
    for (const tenant of config.tenants.values()) {
      for (const team of tenant.providers.slack?.teams ?? []) this.owners.set(team, tenant.id);
    }
  }

  /** No tenant lists a team: every request belongs to `default`, so its body need not be read first. */
  get empty(): boolean {
    return this.owners.size === 0;
  }

  /** The tenant of a request naming `ids`: the team's owner, else the org's owner, else `default`. */
  tenantOf(ids: SlackTeamIds): string {
    return (
      (ids.team === undefined ? undefined : this.owners.get(ids.team)) ??
      (ids.enterprise === undefined ? undefined : this.owners.get(ids.enterprise)) ??
      defaultTenantId
    );
  }
}

/** `team_id` / `enterprise_id` of an Events API body or a slash command's fields (already parsed). */
export function teamIdsOfFields(fields: unknown): SlackTeamIds {
  if (!isRecord(fields)) return {};
  return ids(fields.team_id, fields.enterprise_id);
}

/** `team.id` / `enterprise.id` of an interaction payload (already parsed). */
export function teamIdsOfInteraction(payload: unknown): SlackTeamIds {
  if (!isRecord(payload)) return {};
  const team = isRecord(payload.team) ? payload.team.id : undefined;
  const enterprise = isRecord(payload.enterprise) ? payload.enterprise.id : undefined;
  return ids(team, enterprise);
}

/**
 * The workspace an UNVERIFIED HTTP body names, read with the pipeline's own parsers; `{}` when it
 * cannot be read (malformed, no such field): the request then belongs to tenant `default`. Only
 * ever used to pick which secrets to verify with (see the threat model above).
 *
 * @param kind `events` (JSON), `commands` (form fields) or `interactions` (form field `payload`: JSON).
 */
export function peekTeamIds(
  kind: "events" | "commands" | "interactions",
  mediaType: string | undefined,
  rawBody: Buffer,
): SlackTeamIds {
  if (mediaType === undefined) return {};
  let data: unknown;
  try {
    data = parseBody(mediaType, rawBody);
  } catch {
    return {};
  }
  if (kind !== "interactions") return teamIdsOfFields(data);
  const payload = isRecord(data) ? data.payload : undefined;
  if (typeof payload !== "string") return {};
  try {
    return teamIdsOfInteraction(JSON.parse(payload));
  } catch {
    return {};
  }
}

function ids(team: unknown, enterprise: unknown): SlackTeamIds {
  return {
    ...(typeof team === "string" && team !== "" && { team }),
    ...(typeof enterprise === "string" && enterprise !== "" && { enterprise }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
