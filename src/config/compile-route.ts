/**
 * Compiles one `routes[]` entry. `when.type` becomes RouteConfig.types; every other `when` key is a
 * field predicate, checked here against the event's shape (src/domain/event.ts) so a typo such as
 * `sevrity` is a config problem instead of a route that silently never matches.
 */
import type { Severity } from "../domain/event.ts";
import type { FieldMatch, RouteConfig } from "./config.ts";
import { routeSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { quote } from "./values.ts";
import { parseNode } from "./zod-issues.ts";

/** The ids a route may name: the tenant's declared sources and destinations. */
export interface RouteTargets {
  readonly tenant: string;
  readonly sources: ReadonlySet<string>;
  readonly destinations: ReadonlySet<string>;
}

const severities: readonly Severity[] = ["critical", "high", "medium", "low", "info"];
const resourceFields = ["apiVersion", "kind", "name", "namespace"];

const fieldHelp =
  "use type, severity, category, subject, data.<path>, headers.<name> or resource.<apiVersion|kind|name|namespace>";

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
    const field = normalizeField(key);
    if (field === undefined) {
      problems.at([...path, "when", key], `unknown event field; ${fieldHelp}`);
      continue;
    }
    if (field === "severity") {
      const bad = (typeof value === "string" ? [value] : value).filter(
        (v) => !v.includes("*") && !(severities as readonly string[]).includes(v),
      );
      for (const v of bad) {
        problems.at([...path, "when", key], `unknown severity ${quote(v)}; use ${severities.join(", ")}`);
      }
    }
    when[field] = value;
  }
  if (problems.count > before) return undefined;
  return {
    index,
    ...(node.from && { from: node.from }),
    ...(types && { types }),
    ...(Object.keys(when).length > 0 && { when: when as FieldMatch }),
    to: node.to,
  };
}

/** The path route matching reads (header names lower-cased, as intake stores them), or undefined. */
function normalizeField(key: string): string | undefined {
  if (key === "severity" || key === "category" || key === "subject") return key;
  const [head, ...rest] = key.split(".");
  if (rest.length === 0 || rest.some((segment) => segment === "")) return undefined;
  if (head === "data") return key;
  if (head === "headers" && rest.length === 1) return `headers.${rest.join(".").toLowerCase()}`;
  if (head === "resource" && rest.length === 1 && resourceFields.includes(rest[0] ?? "")) return key;
  return undefined;
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
