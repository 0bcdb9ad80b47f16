/**
 * Things a valid configuration still deserves a warning for, logged once at startup (service.ts) and
 * shown by `zen config check` (summary.ts): destinations that opted out of redaction, and custom
 * templates that failed to render a sample event.
 */
import type { Config } from "./config.ts";

/** One structured warning: log fields and a message (never a secret or event data). */
export interface StartupWarning {
  readonly fields: Readonly<Record<string, string>>;
  readonly message: string;
}

/** A destination whose events are sent unredacted (`redact: false`). */
export interface RedactionOptOut {
  readonly tenant: string;
  readonly destination: string;
  readonly type: string;
}

/** Every destination with `redact: false`, in config order. */
export function redactionOptOuts(config: Pick<Config, "tenants">): RedactionOptOut[] {
  const out: RedactionOptOut[] = [];
  for (const tenant of config.tenants.values()) {
    for (const d of tenant.destinations.values()) {
      if (d.redact === false) out.push({ tenant: tenant.id, destination: d.id, type: d.type });
    }
  }
  return out;
}

/** The warnings to log at startup, in config order. */
export function startupWarnings(config: Pick<Config, "tenants">): StartupWarning[] {
  const warnings: StartupWarning[] = redactionOptOuts(config).map((o) => ({
    fields: { tenant: o.tenant, destination: o.destination },
    message: `redaction is off for destination ${o.tenant}/${o.destination} (redact: false): its events are sent unredacted`,
  }));
  for (const tenant of config.tenants.values()) {
    for (const d of tenant.destinations.values()) {
      for (const warning of d.templates?.warnings ?? []) {
        warnings.push({
          fields: { tenant: tenant.id, destination: d.id },
          message: `template warning: ${warning}`,
        });
      }
    }
    for (const route of tenant.routes) {
      for (const [id, templates] of Object.entries(route.templates ?? {})) {
        for (const warning of templates.warnings) {
          warnings.push({
            fields: { tenant: tenant.id, destination: id },
            message: `template warning: ${warning}`,
          });
        }
      }
    }
  }
  return warnings;
}
