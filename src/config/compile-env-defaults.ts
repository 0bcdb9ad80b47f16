/**
 * What env vars add to tenant `default` (DESIGN.md §3: "Provider credentials in env create a default
 * tenant's … destinations"), created when the file lacks it:
 *
 * - `WEBHOOK_SECRET` → source `generic` (preset `generic`): the seed-compatible `/webhooks/generic`.
 * - `JIRA_WEBHOOK_SECRET` → source `jira` (preset `jira`): `POST /jira/webhook`.
 * - `SERVICENOW_*` → destination `servicenow` (type servicenow, every default), unless the file's
 *   tenant `default` declares a destination with that id (the file's wins).
 * - `JIRA_*` → the tenant's Jira connection only (for `POST /jira/issue`): env has no project, so no
 *   destination; a YAML `type: jira` destination with a `project` routes events there.
 * - `SLACK_SIGNING_SECRET` (comma-separated for rotation) / `SLACK_APP_TOKEN` → the tenant's Slack app
 *   and source `slack` (preset slack, compile-slack.ts): `POST /slack/*` and Socket Mode. A file tenant
 *   `default` with its own `providers.slack` keeps its own; otherwise it gets the env app.
 *
 * A source env would add that the file already declares is a conflict, not silently replaced.
 */

import { presetProfile } from "../intake/verify/presets.ts";
import type { PresetName } from "../intake/verify/spec.ts";
import type { CompileContext } from "./compile-context.ts";
import { compileServiceNowDestination } from "./compile-servicenow-destination.ts";
import { addSlackSource, envSlackConnection } from "./compile-slack.ts";
import { defaultTenantId, emptyTenant, type ImplicitIds, type TenantDraft } from "./compile-tenants.ts";
import type { ProvidersConfig } from "./config.ts";
import type { EnvSettings } from "./env-schema.ts";
import { envLocation, Problems } from "./problems.ts";

/** `/webhooks/generic` lives at tenant `default`, this source. */
export const genericSourceId = "generic";
/** `POST /jira/webhook` lives at tenant `default`, this source. */
export const jiraSourceId = "jira";
/** The destination `SERVICENOW_*` creates in tenant `default`. */
export const serviceNowDestinationId = "servicenow";

/** A source an env secret creates in tenant `default`. */
interface EnvSource {
  /** The variable holding the secret, for problem lines. */
  readonly envName: string;
  readonly id: string;
  readonly preset: PresetName;
  readonly secret: string;
}

/** The parts of tenant `default` env asks for. */
export interface EnvDefaults {
  readonly sources: readonly EnvSource[];
  /** `SERVICENOW_*` is set (and valid): add destination `servicenow`. */
  readonly serviceNowDestination: boolean;
  /** Any env part needs tenant `default`, including a bare Jira/ServiceNow connection or Slack app. */
  readonly needsTenant: boolean;
}

export function envDefaults(base: EnvSettings, providers: ProvidersConfig): EnvDefaults {
  const sources: EnvSource[] = [];
  if (base.webhookSecret !== undefined) {
    sources.push({
      envName: "WEBHOOK_SECRET",
      id: genericSourceId,
      preset: "generic",
      secret: base.webhookSecret,
    });
  }
  if (base.jiraWebhookSecret !== undefined) {
    sources.push({
      envName: "JIRA_WEBHOOK_SECRET",
      id: jiraSourceId,
      preset: "jira",
      secret: base.jiraWebhookSecret,
    });
  }
  const serviceNowDestination = providers.servicenow !== undefined;
  return {
    sources,
    serviceNowDestination,
    needsTenant:
      sources.length > 0 ||
      serviceNowDestination ||
      providers.jira !== undefined ||
      envSlackConnection(providers.slack) !== undefined,
  };
}

/** The ids env adds, which routes in the file may name. */
export function implicitIds(defaults: EnvDefaults): ImplicitIds {
  return {
    sources: new Map([[defaultTenantId, defaults.sources.map((source) => source.id)]]),
    destinations: new Map([
      [defaultTenantId, defaults.serviceNowDestination ? [serviceNowDestinationId] : []],
    ]),
  };
}

/** Adds the env parts to tenant `default`, creating it (with the env connections) when needed. */
export function addEnvDefaults(
  tenants: Map<string, TenantDraft>,
  defaults: EnvDefaults,
  ctx: CompileContext,
  problems: Problems,
): void {
  if (!defaults.needsTenant) return;
  let tenant = tenants.get(defaultTenantId);
  if (!tenant) {
    tenant = emptyTenant(defaultTenantId, ctx.envConnections);
    tenants.set(defaultTenantId, tenant);
    // A file tenant `default` got its Slack source when it was compiled (compile-tenants.ts).
    addSlackSource(tenant, "env", ctx, problems);
  }
  for (const source of defaults.sources) addEnvSource(tenant, source, ctx, problems);
  if (defaults.serviceNowDestination && !tenant.declaredDestinations.has(serviceNowDestinationId)) {
    addServiceNowDestination(tenant, ctx, problems);
  }
}

function addEnvSource(tenant: TenantDraft, source: EnvSource, ctx: CompileContext, problems: Problems): void {
  if (tenant.declaredSources.has(source.id)) {
    problems.add(
      envLocation(source.envName),
      `tenant "${tenant.id}" in ZEN_CONFIG already declares source "${source.id}"; remove one of them`,
    );
    return;
  }
  tenant.declaredSources.add(source.id);
  tenant.sources.set(source.id, {
    id: source.id,
    tenant: tenant.id,
    preset: source.preset,
    // A copy: the preset table's arrays are shared module constants, and the Config gets frozen.
    profile: structuredClone(presetProfile(source.preset, ctx.toleranceSeconds)),
    secrets: [source.secret],
  });
}

/**
 * Compiled from `{ id: servicenow, type: servicenow }` like a file node, so it gets exactly the
 * defaults a YAML one would. Its only possible problem is the default timeout against a short lease;
 * that is reported at `env SERVICENOW_INSTANCE`, since no file path exists.
 */
function addServiceNowDestination(tenant: TenantDraft, ctx: CompileContext, problems: Problems): void {
  const scratch = new Problems();
  const destination = compileServiceNowDestination(
    { id: serviceNowDestinationId, type: "servicenow" },
    [],
    { id: tenant.id, connections: tenant.connections },
    ctx,
    scratch,
  );
  for (const line of scratch.lines) {
    problems.add(
      envLocation("SERVICENOW_INSTANCE"),
      `destination "${serviceNowDestinationId}" created from SERVICENOW_*: ${line}`,
    );
  }
  if (destination) {
    tenant.declaredDestinations.add(destination.id);
    tenant.destinations.set(destination.id, destination);
  }
}
