/**
 * Config problems are collected, not thrown one at a time: a user fixing a config file should see every
 * mistake in one run. Each problem is one line, `<where>: <what>`, where `<where>` is a field path in
 * the YAML file (`tenants[0].sources[1].secrets[0]`), `env NAME`, or a file position (`path:line:col`).
 * Messages never contain secret values.
 */
import { ConfigError } from "../domain/errors.ts";

/** A path into the YAML document: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

const identifier = /^[A-Za-z_$][\w$]*$/;

/** `["tenants", 0, "routes", 1, "when", "data.x"]` → `tenants[0].routes[1].when["data.x"]`. */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (identifier.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(top level)" : out;
}

/** Where an env var problem is reported: `env NAME`. */
export function envLocation(name: string): string {
  return `env ${name}`;
}

/** Collects problem lines in the order they are found; `throwIfAny` ends loading. */
export class Problems {
  readonly #lines: string[] = [];

  /** Records one problem at a preformatted location (`env PORT`, `/etc/zen.yaml:3:5`). */
  add(location: string, message: string): void {
    this.#lines.push(`${location}: ${message}`);
  }

  /** Records one problem at a YAML field path. */
  at(path: FieldPath, message: string): void {
    this.add(formatPath(path), message);
  }

  get count(): number {
    return this.#lines.length;
  }

  get lines(): readonly string[] {
    return [...this.#lines];
  }

  /** @throws ConfigError (code `config_invalid`) listing every recorded problem, if any. */
  throwIfAny(): void {
    if (this.#lines.length > 0) throw new ConfigError(this.lines);
  }
}
