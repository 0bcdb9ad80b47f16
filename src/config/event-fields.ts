/**
 * The event fields config may name (route `when:` keys, ticket `fingerprintFields` and
 * `resolvedWhen`), checked against the event's shape (src/domain/event.ts) so a typo such as
 * `sevrity` is a config problem instead of a predicate that silently never matches.
 */
import type { Severity } from "../domain/event.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { quote } from "./values.ts";

/** Every severity, most severe first. */
export const severities: readonly Severity[] = ["critical", "high", "medium", "low", "info"];

const resourceFields = ["apiVersion", "kind", "name", "namespace"];

/** Appended to "unknown event field" problems. */
export const eventFieldHelp =
  "use type, severity, category, subject, data.<path>, headers.<name> or resource.<apiVersion|kind|name|namespace>";

/**
 * The path event matching reads (`eventField` in domain/route-match.ts; header names lower-cased, as
 * intake stores them), or undefined when `key` names no event field. `type` is left to the caller:
 * routes turn it into RouteConfig.types, ticket identity reads it as a field.
 */
export function normalizeEventField(key: string): string | undefined {
  if (key === "severity" || key === "category" || key === "subject") return key;
  const [head, ...rest] = key.split(".");
  if (rest.length === 0 || rest.some((segment) => segment === "")) return undefined;
  if (head === "data") return key;
  if (head === "headers" && rest.length === 1) return `headers.${rest.join(".").toLowerCase()}`;
  if (head === "resource" && rest.length === 1 && resourceFields.includes(rest[0] ?? "")) return key;
  return undefined;
}

/** True for one of the five severities. */
export function isSeverity(value: string): value is Severity {
  return (severities as readonly string[]).includes(value);
}

/**
 * One `field: value(s)` predicate (not `type`): the normalized field, or undefined after recording
 * an unknown field. Severity values are checked too (globs pass); a bad one is recorded, the field
 * still returned, so the caller's problem count tells whether the node failed.
 */
export function compilePredicateField(
  key: string,
  value: string | readonly string[],
  path: FieldPath,
  problems: Problems,
): string | undefined {
  const field = normalizeEventField(key);
  if (field === undefined) {
    problems.at(path, `unknown event field; ${eventFieldHelp}`);
    return undefined;
  }
  if (field === "severity") {
    for (const v of typeof value === "string" ? [value] : value) {
      if (!v.includes("*") && !isSeverity(v)) {
        problems.at(path, `unknown severity ${quote(v)}; use ${severities.join(", ")}`);
      }
    }
  }
  return field;
}
