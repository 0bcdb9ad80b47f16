/**
 * File reading as an injected side effect: `loadConfig` reads the YAML file and `file:` secrets through
 * it, so tests hand in a fake file system instead of touching disk.
 */
import { readFileSync } from "node:fs";

/** Reads a whole UTF-8 file; throws like `fs.readFileSync` (an error with `code`, e.g. `ENOENT`). */
export type ReadFile = (path: string) => string;

/** The production `ReadFile`. */
export const readFileUtf8: ReadFile = (path) => readFileSync(path, "utf8");

/** `ENOENT (no such file)`-style reason, from the error's code only: never the file's content. */
export function readErrorReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return typeof code === "string" ? code : "unreadable";
  }
}
