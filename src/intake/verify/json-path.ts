/**
 * A deliberately small JSON path: `$`, `.name`, `[index]` and `["name"]` steps, e.g. `$.event.type`,
 * `$.items[0].id`, `$["x-id"]`. Parsed once at compile time; reading follows own properties only, so
 * `$.constructor` or `$.__proto__` never reach the prototype.
 */
import { ConfigError } from "../../domain/errors.ts";

/** A parsed path: property names and array indexes, in order. */
export type JsonPath = readonly (string | number)[];

/** One step: `.name` | `[digits]` | `["…"]` | `['…']`. */
const stepPattern = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\["([^"]*)"\]|\['([^']*)'\]/y;

/**
 * Parses `path` into steps.
 *
 * @throws ConfigError when `path` does not start with `$` or has a step this grammar does not know.
 */
export function parseJsonPath(path: string): JsonPath {
  if (!path.startsWith("$")) throw invalid(path, "must start with $");
  const steps: (string | number)[] = [];
  stepPattern.lastIndex = 1;
  while (stepPattern.lastIndex < path.length) {
    const at = stepPattern.lastIndex;
    const match = stepPattern.exec(path);
    if (match === null) throw invalid(path, `unexpected text at position ${at}`);
    const [, name, index, doubleQuoted, singleQuoted] = match;
    steps.push(index === undefined ? (name ?? doubleQuoted ?? singleQuoted ?? "") : Number(index));
  }
  return steps;
}

/** The value at `path` inside `root`, or `undefined` when any step is missing. */
export function readJsonPath(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const step of path) {
    if (typeof step === "number") {
      if (!Array.isArray(node) || step >= node.length) return undefined;
      node = node[step];
    } else {
      if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, step)) {
        return undefined;
      }
      node = (node as Record<string, unknown>)[step];
    }
  }
  return node;
}

function invalid(path: string, why: string): ConfigError {
  return new ConfigError([`jsonPath ${JSON.stringify(path)}: ${why} (supported: $.a.b, $.a[0].b, $["a-b"])`]);
}
