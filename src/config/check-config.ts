/** `zen config check`: load the configuration and report either a summary or every problem. */
import { ConfigError } from "../domain/errors.ts";
import type { Config } from "./config.ts";
import { type LoadConfigInput, loadConfig } from "./load-config.ts";
import { summarizeConfig } from "./summary.ts";

/** `ok`: the compiled config and its summary lines; else every problem line. */
export type CheckResult =
  | { readonly ok: true; readonly summary: readonly string[]; readonly config: Config }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Loads the config like startup does. Never prints secrets: the summary shows counts and origins only.
 * The CLI prints `summary` (exit 0) or `problems` (exit 2).
 * @throws only unexpected errors (bugs); config problems come back as `{ ok: false }`.
 */
export function checkConfig(input: LoadConfigInput): CheckResult {
  try {
    const config = loadConfig(input);
    return { ok: true, summary: summarizeConfig(config), config };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.problems };
    throw err;
  }
}
