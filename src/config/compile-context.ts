/** Shared input of the compile-*.ts steps: everything besides the YAML node itself. */
import type { SecretSources } from "./secrets.ts";

export interface CompileContext {
  /** Where `env:` and `file:` references are resolved. */
  readonly secrets: SecretSources;
  /** Timestamp window, in seconds, for schemes that set none (`ZEN_TOLERANCE_SECONDS`). */
  readonly toleranceSeconds: number;
  /** Worker lease in ms (`ZEN_LEASE_MS`): destination timeouts must stay below it. */
  readonly leaseMs: number;
}
