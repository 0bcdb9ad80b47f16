/**
 * Compiles `tenants[]`: each tenant's sources, destinations and routes, with the checks that span
 * nodes (duplicate ids, routes naming ids that exist). Ids are collected from the raw nodes, so a
 * source that failed to compile still counts as declared: its own problems are reported once, not
 * echoed by every route that names it. A tenant's `providers:` compile first: its `jira` and
 * `servicenow` destinations take their connection from there (tenant `default`: else from env).
 */

import type { CompiledRedactionPolicy } from "../redaction/policy.ts";
import { defaultRedactionPolicy } from "../redaction/redact-delivery.ts";
import { checkApprovals, compileApprovalPolicy } from "./compile-approvals.ts";
import type { CompileContext, Connections } from "./compile-context.ts";
import { compileDestination } from "./compile-destination.ts";
import { compileTenantProviders, withFallback } from "./compile-providers.ts";
import { compileTenantRedaction } from "./compile-redaction.ts";
import { compileRoute } from "./compile-route.ts";
import { addSlackSource, claimSlackTeams } from "./compile-slack.ts";
import { compileSource } from "./compile-source.ts";
import type {
  ApprovalPolicyConfig,
  DestinationConfig,
  RateLimitConfig,
  RouteConfig,
  SourceConfig,
  TenantConfig,
} from "./config.ts";
import { rateLimitSchema, tenantSchema } from "./file-schema.ts";
import { compiledArtifact, FrozenMap } from "./frozen.ts";
import { type FieldPath, formatPath, type Problems } from "./problems.ts";
import { parseNode } from "./zod-issues.ts";

/** The tenant env-configured parts go to (`WEBHOOK_SECRET`, `JIRA_*`, `SERVICENOW_*`, …). */
export const defaultTenantId = "default";

/** A tenant being built; frozen into a TenantConfig by `freezeTenants`. */
export interface TenantDraft {
  readonly id: string;
  /** `providers:`, after the env fallback for tenant `default`. */
  readonly connections: Connections;
  readonly rateLimit?: RateLimitConfig;
  readonly intakeRateLimit?: RateLimitConfig;
  /** `redaction:`, compiled; absent: the default policy (set when frozen). */
  readonly redaction?: CompiledRedactionPolicy;
  /** `approvals:`, compiled; absent: the tenant has no approvals. */
  readonly approvals?: ApprovalPolicyConfig;
  /** Ids written in the file, compiled or not (for cross-references and duplicates). */
  readonly declaredSources: Set<string>;
  /** Destination ids written in the file, compiled or not. */
  readonly declaredDestinations: Set<string>;
  readonly sources: Map<string, SourceConfig>;
  readonly destinations: Map<string, DestinationConfig>;
  readonly routes: RouteConfig[];
}

/** Ids added from env (tenant id → ids) that routes in the file may name. */
export interface ImplicitIds {
  /** E.g. `default`/`generic` when `WEBHOOK_SECRET` is set. */
  readonly sources: ReadonlyMap<string, readonly string[]>;
  /** E.g. `default`/`servicenow` when `SERVICENOW_*` is set. */
  readonly destinations: ReadonlyMap<string, readonly string[]>;
}

const noImplicitIds: ImplicitIds = { sources: new Map(), destinations: new Map() };

/** An empty tenant draft (for tenants env creates). */
export function emptyTenant(id: string, connections: Connections): TenantDraft {
  return {
    id,
    connections,
    declaredSources: new Set(),
    declaredDestinations: new Set(),
    sources: new Map(),
    destinations: new Map(),
    routes: [],
  };
}

/** Compiles every tenant node; a tenant whose own keys are broken is skipped (after recording why). */
export function compileTenants(
  rawTenants: readonly unknown[],
  path: FieldPath,
  ctx: CompileContext,
  problems: Problems,
  implicit: ImplicitIds = noImplicitIds,
): Map<string, TenantDraft> {
  const tenants = new Map<string, TenantDraft>();
  const firstSeen = new Map<string, string>();
  const slackTeams = new Map<string, string>();
  rawTenants.forEach((raw, i) => {
    const tenantPath = [...path, i];
    if (isDuplicate(raw, [...tenantPath, "id"], "tenant", firstSeen, problems)) return;
    const node = parseNode(tenantSchema, raw, tenantPath, problems);
    if (!node) return;
    const rateLimit = compileRateLimit(node.rateLimit, [...tenantPath, "rateLimit"], problems);
    const intakeRateLimit = compileRateLimit(
      node.intakeRateLimit,
      [...tenantPath, "intakeRateLimit"],
      problems,
    );
    const own = compileTenantProviders(node.providers, [...tenantPath, "providers"], ctx, problems);
    const redaction = compileTenantRedaction(
      node.redaction,
      [...tenantPath, "redaction"],
      ctx.secrets,
      problems,
    );
    const approvals = compileApprovalPolicy(node.approvals, [...tenantPath, "approvals"], problems);
    const draft: TenantDraft = {
      ...emptyTenant(node.id, node.id === defaultTenantId ? withFallback(own, ctx.envConnections) : own),
      ...(rateLimit && { rateLimit }),
      ...(intakeRateLimit && { intakeRateLimit }),
      ...(redaction && { redaction }),
      ...(approvals && { approvals }),
    };
    const scope = { id: node.id, connections: draft.connections };
    const sourceIds = new Map<string, string>();
    node.sources.forEach((rawSource, j) => {
      const p = [...tenantPath, "sources", j];
      if (isDuplicate(rawSource, [...p, "id"], "source", sourceIds, problems)) return;
      const source = compileSource(rawSource, p, node.id, ctx, problems);
      if (source) draft.sources.set(source.id, source);
    });
    for (const id of sourceIds.keys()) draft.declaredSources.add(id);
    const slackOrigin = own.providers.slack ? [...tenantPath, "providers", "slack"] : "env";
    addSlackSource(draft, slackOrigin, ctx, problems);
    claimSlackTeams(draft, tenantPath, slackTeams, problems);
    const destinationIds = new Map<string, string>();
    node.destinations.forEach((rawDestination, j) => {
      const p = [...tenantPath, "destinations", j];
      if (isDuplicate(rawDestination, [...p, "id"], "destination", destinationIds, problems)) return;
      const destination = compileDestination(rawDestination, p, scope, ctx, problems);
      if (destination) draft.destinations.set(destination.id, destination);
    });
    for (const id of destinationIds.keys()) draft.declaredDestinations.add(id);
    checkApprovals(
      draft,
      node.destinations,
      [...tenantPath, "destinations"],
      [...tenantPath, "approvals"],
      ctx,
      problems,
    );
    const targets = {
      tenant: node.id,
      sources: new Set([...draft.declaredSources, ...(implicit.sources.get(node.id) ?? [])]),
      destinations: new Set([...draft.declaredDestinations, ...(implicit.destinations.get(node.id) ?? [])]),
      compiledDestinations: draft.destinations,
      declaredDestinations: draft.declaredDestinations,
      templateSources: ctx.secrets,
    };
    node.routes.forEach((rawRoute, j) => {
      const route = compileRoute(rawRoute, [...tenantPath, "routes", j], j, targets, problems);
      if (route) draft.routes.push(route);
    });
    tenants.set(node.id, draft);
  });
  return tenants;
}

/** Drafts → TenantConfigs with read-only maps (deep freezing happens once, on the whole Config). */
export function freezeTenants(drafts: ReadonlyMap<string, TenantDraft>): FrozenMap<string, TenantConfig> {
  return new FrozenMap(
    [...drafts.values()].map((draft): [string, TenantConfig] => [
      draft.id,
      {
        id: draft.id,
        providers: draft.connections.providers,
        ...(draft.rateLimit && { rateLimit: draft.rateLimit }),
        ...(draft.intakeRateLimit && { intakeRateLimit: draft.intakeRateLimit }),
        redaction: draft.redaction ?? compiledArtifact(defaultRedactionPolicy()),
        sources: new FrozenMap(draft.sources),
        destinations: new FrozenMap(draft.destinations),
        routes: draft.routes,
        ...(draft.approvals && { approvals: draft.approvals }),
      },
    ]),
  );
}

/** A tenant-level limit: absent stays undefined; a broken one is recorded (loading then fails). */
function compileRateLimit(raw: unknown, path: FieldPath, problems: Problems): RateLimitConfig | undefined {
  return raw === undefined ? undefined : parseNode(rateLimitSchema, raw, path, problems);
}

/**
 * Records `raw.id` as seen; when it was seen before, reports the duplicate and returns true (the
 * node is then skipped). Nodes without a string id are left to their schema to report.
 */
function isDuplicate(
  raw: unknown,
  idPath: FieldPath,
  kind: string,
  seen: Map<string, string>,
  problems: Problems,
): boolean {
  const id = raw !== null && typeof raw === "object" ? (raw as { id?: unknown }).id : undefined;
  if (typeof id !== "string") return false;
  const first = seen.get(id);
  if (first !== undefined) {
    problems.at(idPath, `duplicate ${kind} id "${id}" (first declared at ${first})`);
    return true;
  }
  seen.set(id, formatPath(idPath.slice(0, -1)));
  return false;
}
