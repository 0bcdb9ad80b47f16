/**
 * Route matching: which destinations an event fans out to. Pure: config and event in, matches out.
 * A route matches when its `from` names the event's source (or is absent), one of its `types` matches
 * the event type (`*` globs, or absent), and every `when` predicate holds.
 */
import type { FieldMatch, RouteConfig, TenantConfig } from "../config/config.ts";
import type { ZenEvent } from "./event.ts";

export interface RouteMatch {
  /** Indexes of the matched routes in the tenant's list. */
  readonly routes: readonly number[];
  /** Destination ids, each once, in first-match order. */
  readonly destinations: readonly string[];
}

const globCache = new Map<string, RegExp>();

/** `invoice.*` → /^invoice\..*$/; a pattern without `*` is an exact match. */
export function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  let re = globCache.get(pattern);
  if (!re) {
    const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
    re = new RegExp(`^${escaped.join(".*")}$`);
    globCache.set(pattern, re);
  }
  return re.test(value);
}

/**
 * Reads `severity`, `data.a.b`, `headers.x-github-event`, `resource.namespace` from an event.
 * Arrays are indexed by number segments (`data.items.0.name`). Non-scalar values do not match.
 */
export function eventField(event: ZenEvent, path: string): string | undefined {
  let current: unknown = event;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  if (typeof current === "string") return current;
  if (typeof current === "number" || typeof current === "boolean") return String(current);
  return undefined;
}

function predicatesHold(when: FieldMatch | undefined, event: ZenEvent): boolean {
  if (!when) return true;
  for (const [path, expected] of Object.entries(when)) {
    const actual = eventField(event, path);
    if (actual === undefined) return false;
    const options = typeof expected === "string" ? [expected] : expected;
    if (!options.some((pattern) => globMatches(pattern, actual))) return false;
  }
  return true;
}

export function routeMatches(route: RouteConfig, event: ZenEvent): boolean {
  if (route.from && !route.from.includes(event.source)) return false;
  if (route.types && !route.types.some((pattern) => globMatches(pattern, event.type))) return false;
  return predicatesHold(route.when, event);
}

export function matchRoutes(tenant: TenantConfig, event: ZenEvent): RouteMatch {
  const routes: number[] = [];
  const destinations: string[] = [];
  for (const route of tenant.routes) {
    if (!routeMatches(route, event)) continue;
    routes.push(route.index);
    for (const id of route.to) if (!destinations.includes(id)) destinations.push(id);
  }
  return { routes, destinations };
}
