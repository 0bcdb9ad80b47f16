/** Test support for the config tests (not used by production code): an in-memory file system. */
import { ConfigError } from "../domain/errors.ts";
import type { Config } from "./config.ts";
import { loadConfig } from "./load-config.ts";
import type { ReadFile } from "./read-file.ts";

/** A `ReadFile` over `files`; unknown paths throw an ENOENT error like `fs.readFileSync`. */
export function fakeFiles(files: Readonly<Record<string, string>>): ReadFile {
  return (path) => {
    const content = files[path];
    if (content === undefined) {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    }
    return content;
  };
}

/** Runs `fn`, which must throw a ConfigError (code `config_invalid`), and returns its problem lines. */
export function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError && err.code === "config_invalid") return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError, but loading succeeded");
}

/** Where `loadYaml` puts the config file. */
export const testConfigPath = "/etc/zen/zen.yaml";

/** Loads `yaml` as the ZEN_CONFIG file, with extra env vars and files. */
export function loadYaml(
  yaml: string,
  env: Readonly<Record<string, string>> = {},
  files: Readonly<Record<string, string>> = {},
): Config {
  return loadConfig({
    env: { ZEN_CONFIG: testConfigPath, ...env },
    readFile: fakeFiles({ [testConfigPath]: yaml, ...files }),
  });
}

/** The problem lines of loading `yaml` (which must fail). */
export function yamlProblems(
  yaml: string,
  env: Readonly<Record<string, string>> = {},
  files: Readonly<Record<string, string>> = {},
): readonly string[] {
  return problemsOf(() => loadYaml(yaml, env, files));
}
