/**
 * Which templates render one delivery: those of the first route that matches the event, sends to this
 * destination and gives it `templates:`; else the destination's own `templates:`; else the type's
 * defaults. Every templated destination (webhook, Jira, ServiceNow, and Slack when it lands) asks
 * here, so the rule is the same everywhere.
 *
 * The queue keeps no route: a delivery is (event, destination). So the route is found again at
 * delivery time by matching the event as received (not the redacted one) against the tenant's routes,
 * with the same pure matcher intake used (domain/route-match.ts): for a given config, the same event
 * always picks the same route. A config changed between intake and delivery (a restart with a new
 * file) is matched as it is now.
 */
import type { DestinationTemplates, RouteConfig } from "../config/config.ts";
import type { ZenEvent } from "../domain/event.ts";
import { routeMatches } from "../domain/route-match.ts";
import {
  type CompiledTemplateSet,
  defaultTemplateSet,
  type TemplatedDestinationType,
} from "../templates/template-set.ts";

/** What the choice needs to know about a destination (its config has these fields). */
export interface TemplatedDestination<T extends TemplatedDestinationType> {
  readonly id: string;
  readonly type: T;
  readonly templates?: DestinationTemplates<T>;
}

/** The templates to render `event` with (see the module comment). */
export type TemplateChooser<T extends TemplatedDestinationType> = (event: ZenEvent) => CompiledTemplateSet<T>;

/**
 * Prepares the choice for one destination: the routes that send to it with `templates:` for it are
 * picked once, so a destination no route overrides pays nothing per delivery.
 * @param routes the tenant's routes (`TenantConfig.routes`), in file order; default none.
 */
export function createTemplateChooser<T extends TemplatedDestinationType>(
  destination: TemplatedDestination<T>,
  routes: readonly RouteConfig[] = [],
): TemplateChooser<T> {
  const own = destination.templates?.parts ?? defaultTemplateSet(destination.type);
  const overriding: { readonly route: RouteConfig; readonly parts: CompiledTemplateSet<T> }[] = [];
  for (const route of routes) {
    const templates = route.templates?.[destination.id];
    if (templates === undefined || !route.to.includes(destination.id)) continue;
    // Compiled against this destination's type (compile-templates.ts); a mismatch would be a bug.
    if (templates.type !== destination.type) {
      throw new Error(
        `route ${route.index} has ${templates.type} templates for ${destination.type} destination`,
      );
    }
    overriding.push({ route, parts: templates.parts as unknown as CompiledTemplateSet<T> });
  }
  if (overriding.length === 0) return () => own;
  return (event) => {
    for (const { route, parts } of overriding) if (routeMatches(route, event)) return parts;
    return own;
  };
}
