/**
 * Pino JSON logs. Redaction paths keep credentials out even if a caller logs a header object by
 * mistake; the real rule is: never pass secrets or signatures to the logger.
 */
import { type Logger, pino } from "pino";
import type { LogLevel } from "../config/config.ts";

export type { Logger };

const redactPaths = [
  "req.headers.authorization",
  "headers.authorization",
  "*.authorization",
  "*.secret",
  "*.secrets",
  "*.token",
  "*.password",
  'headers["x-hub-signature-256"]',
  'headers["x-slack-signature"]',
  'headers["stripe-signature"]',
  'headers["webhook-signature"]',
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "zen-integrations" },
      redact: { paths: redactPaths, censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** A logger that drops everything: the default for tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
