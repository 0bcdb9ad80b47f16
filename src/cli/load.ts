/** Shared by the CLI commands: load the config or exit 2 printing one line per problem. */
import { checkConfig } from "../config/check-config.ts";
import type { Config } from "../config/config.ts";

/** Exit code of an invalid configuration (DESIGN.md §3). */
export const configErrorExitCode = 2;

export function loadConfigOrExit(env: NodeJS.ProcessEnv): Config {
  const result = checkConfig({ env });
  if (result.ok) return result.config;
  for (const line of result.problems) process.stderr.write(`${line}\n`);
  process.exit(configErrorExitCode);
}
