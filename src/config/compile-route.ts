/**
 * Compiles one `routes[]` entry. `when.type` becomes RouteConfig.types; every other `when` key is a
 * field predicate, checked against the event's shape (event-fields.ts) so a typo such as `sevrity` is
 * a config problem instead of a route that silently never matches. `templates:` (per destination id)
 * are compiled against each destination's type (compile-templates.ts).
 */
import { compileRouteTemplates } from "./compile-templates.ts";
import type { DestinationConfig, FieldMatch, RouteConfig } from "./config.ts";
import { compilePredicateField } from "./event-fields.ts";
import { routeSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import type { SecretSources } from "./secrets.ts";
import { quote } from "./values.ts";
import { parseNode } from "./zod-issues.ts";

/** The ids a route may name: the tenant's declared sources and destinations. */
export interface RouteTargets {
  readonly tenant: string;
  readonly sources: ReadonlySet<string>;
  /** Declared in the file or added from the environment. */
  readonly destinations: ReadonlySet<string>;
  /** Destinations declared in the file that compiled: route `templates:` are checked against their type. */
  readonly compiledDestinations: ReadonlyMap<string, DestinationConfig>;
  /** Destination ids declared in the file, compiled or not. */
  readonly declaredDestinations: ReadonlySet<string>;
  /** Where template files (`{ file: … }`) are read from. */
  readonly templateSources: Pick<SecretSources, "readFile" | "baseDir">;
}

/**
 * @param index the route's position in the tenant's list (kept as RouteConfig.index)
 * @param targets the ids `from` and `to` may name
 * @returns the route, or undefined after recording its problems
 */
export function compileRoute(
  raw: unknown,
  path: FieldPath,
  index: number,
  targets: RouteTargets,
  problems: Problems,
): RouteConfig | undefined {
  const node = parseNode(routeSchema, raw, path, problems);
  if (!node) return undefined;
  const before = problems.count;

  if (node.from) checkIds(node.from, "source", targets.sources, targets.tenant, [...path, "from"], problems);
  checkIds(node.to, "destination", targets.destinations, targets.tenant, [...path, "to"], problems);

  let types: string[] | undefined;
  const when: Record<string, string | readonly string[]> = {};
  for (const [key, value] of Object.entries(node.when ?? {})) {
    if (key === "type") {
      types = typeof value === "string" ? [value] : [...value];
      continue;
    }
    const field = compilePredicateField(key, value, [...path, "when", key], problems);
    if (field !== undefined) when[field] = value;
  }
  const templates = compileRouteTemplates(
    node.templates,
    [...path, "templates"],
    {
      to: node.to,
      destinations: targets.compiledDestinations,
      declared: targets.declaredDestinations,
    },
    targets.templateSources,
    problems,
  );
  if (problems.count > before) return undefined;
  return {
    index,
    ...(node.from && { from: node.from }),
    ...(types && { types }),
    ...(Object.keys(when).length > 0 && { when: when as FieldMatch }),
    to: node.to,
    ...(templates && { templates }),
  };
}

function checkIds(
  ids: readonly string[],
  kind: "source" | "destination",
  known: ReadonlySet<string>,
  tenant: string,
  path: FieldPath,
  problems: Problems,
): void {
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) problems.at([...path, i], `${kind} ${quote(id)} is listed twice`);
    else if (!known.has(id)) {
      const list = known.size > 0 ? `its ${kind}s: ${[...known].join(", ")}` : `it has no ${kind}s`;
      problems.at([...path, i], `unknown ${kind} ${quote(id)} in tenant ${quote(tenant)}; ${list}`);
    }
  });
}
