/**
 * Compiles a destination's `templates:` mapping (part → Liquid source or `{ file: /path }`), and a
 * route's (the same, per destination id), with the template engine, once, at load: a broken template
 * is a config problem naming its place and line:col (`tenants[0].destinations[1].templates.summary:1:5: …`,
 * `tenants[0].routes[0].templates["ops-hook"].body:1:3: …`, or `/etc/zen/summary.liquid:3:1: …` for a
 * file), never a runtime surprise. Which parts each type has, and their defaults, is
 * templates/template-set.ts's business.
 */
import { isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import {
  type CompiledTemplateSet,
  compileTemplateSet,
  type TemplatedDestinationType,
  type TemplateOverride,
  templateParts,
} from "../templates/template-set.ts";
import type { DestinationConfig, DestinationTemplates, RouteTemplates } from "./config.ts";
import type { destinationTemplatesSchema } from "./file-schema.ts";
import { compiledArtifact } from "./frozen.ts";
import { type FieldPath, formatPath, type Problems } from "./problems.ts";
import { readErrorReason } from "./read-file.ts";
import type { SecretSources } from "./secrets.ts";
import { quote } from "./values.ts";
import { closest } from "./zod-issues.ts";

/**
 * @param raw the parsed `templates:` node; undefined or empty: the type's defaults (returns undefined).
 * @param sources file reading and the directory relative template paths start from.
 * @returns the compiled parts, or undefined (defaults, or problems recorded: check `problems.count`).
 */
export function compileDestinationTemplates<T extends TemplatedDestinationType>(
  type: T,
  raw: z.output<typeof destinationTemplatesSchema> | undefined,
  path: FieldPath,
  sources: Pick<SecretSources, "readFile" | "baseDir">,
  problems: Problems,
): DestinationTemplates<T> | undefined {
  if (raw === undefined || Object.keys(raw).length === 0) return undefined;
  const known = Object.keys(templateParts[type]);
  const overrides: Record<string, TemplateOverride> = {};
  let skipped = false;
  for (const [part, value] of Object.entries(raw)) {
    if (!known.includes(part)) {
      const guess = closest(part, known);
      problems.at(
        [...path, part],
        guess === undefined
          ? `unknown template part for a ${type} destination; known: ${known.join(", ")}`
          : `unknown template part for a ${type} destination (did you mean "${guess}"?)`,
      );
      skipped = true;
      continue;
    }
    if (typeof value === "string") {
      overrides[part] = value;
      continue;
    }
    const file = isAbsolute(value.file) ? value.file : resolve(sources.baseDir, value.file);
    try {
      overrides[part] = { source: sources.readFile(file), name: file };
    } catch (err) {
      problems.at([...path, part, "file"], `cannot read template file ${file}: ${readErrorReason(err)}`);
      skipped = true;
    }
  }
  const result = compileTemplateSet(type, overrides, formatPath(path));
  if (!result.ok) {
    for (const problem of result.problems) problems.add(problem.location, problem.message);
    return undefined;
  }
  if (skipped) return undefined;
  return {
    parts: compiledArtifact(Object.freeze(result.templates)),
    custom: Object.keys(raw),
    warnings: result.warnings.map((w) => `${w.location}: ${w.message}`),
  };
}

/** What a route's `templates:` may refer to: the tenant's destinations as compiled so far. */
export interface RouteTemplateTargets {
  /** The route's `to`. */
  readonly to: readonly string[];
  /** Destinations declared in the file that compiled, by id. */
  readonly destinations: ReadonlyMap<string, DestinationConfig>;
  /** Destination ids declared in the file, compiled or not (a broken one reports its own problems). */
  readonly declared: ReadonlySet<string>;
}

/**
 * Compiles a route's `templates:` mapping (destination id → parts, as on a destination). Each id must
 * be one of the route's `to` and a destination declared in the file; its parts are checked against
 * that destination's type exactly like the destination's own `templates:` (unknown part, syntax error
 * at line:col, unreadable file). The result holds a full set per destination: the route's parts, the
 * destination's own templates for the other parts, else the defaults.
 * @param path config path of the route's `templates:`, e.g. `tenants[0].routes[1].templates`.
 * @returns the compiled sets by destination id, or undefined (none, or problems recorded).
 */
export function compileRouteTemplates(
  raw: Readonly<Record<string, z.output<typeof destinationTemplatesSchema>>> | undefined,
  path: FieldPath,
  targets: RouteTemplateTargets,
  sources: Pick<SecretSources, "readFile" | "baseDir">,
  problems: Problems,
): Readonly<Record<string, RouteTemplates>> | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, RouteTemplates> = {};
  for (const [id, node] of Object.entries(raw)) {
    const at = [...path, id];
    if (!targets.to.includes(id)) {
      problems.at(at, `destination ${quote(id)} is not one of this route's to (${targets.to.join(", ")})`);
      continue;
    }
    const destination = targets.destinations.get(id);
    if (destination === undefined) {
      if (!targets.declared.has(id)) {
        problems.at(
          at,
          `destination ${quote(id)} comes from the environment; declare it under destinations: to give it route templates`,
        );
      }
      continue;
    }
    const compiled = routeTemplatesFor(destination, node, at, sources, problems);
    if (compiled !== undefined) out[id] = compiled;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function routeTemplatesFor(
  destination: DestinationConfig,
  node: z.output<typeof destinationTemplatesSchema>,
  path: FieldPath,
  sources: Pick<SecretSources, "readFile" | "baseDir">,
  problems: Problems,
): RouteTemplates | undefined {
  switch (destination.type) {
    case "webhook":
      return overlay("webhook", destination.templates, node, path, sources, problems);
    case "jira":
      return overlay("jira", destination.templates, node, path, sources, problems);
    case "servicenow":
      return overlay("servicenow", destination.templates, node, path, sources, problems);
    case "slack":
      return overlay("slack", destination.templates, node, path, sources, problems);
    case "approval":
    case "zen-back":
      // Their messages are built by the approvals feature, not by templates.
      problems.at(path, `destination type ${destination.type} takes no templates`);
      return undefined;
    default: {
      const exhaustive: never = destination;
      return exhaustive;
    }
  }
}

/** The route's parts over the destination's own templates (parts it does not name keep those). */
function overlay<T extends TemplatedDestinationType>(
  type: T,
  own: DestinationTemplates<T> | undefined,
  node: z.output<typeof destinationTemplatesSchema>,
  path: FieldPath,
  sources: Pick<SecretSources, "readFile" | "baseDir">,
  problems: Problems,
): RouteTemplates | undefined {
  const compiled = compileDestinationTemplates(type, node, path, sources, problems);
  if (compiled === undefined) return undefined;
  const parts: Record<string, unknown> = { ...compiled.parts };
  if (own !== undefined) {
    for (const part of own.custom) {
      if (!compiled.custom.includes(part)) parts[part] = own.parts[part as keyof CompiledTemplateSet<T>];
    }
  }
  return {
    type,
    parts: compiledArtifact(Object.freeze(parts as CompiledTemplateSet<T>)),
    custom: compiled.custom,
    warnings: compiled.warnings,
  } as RouteTemplates;
}
