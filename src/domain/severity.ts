/**
 * Severity words from every tool we take events from, mapped onto our five levels. Sources disagree
 * (Falco's `Warning`, Trivy's `HIGH`, PagerDuty's `P1`, syslog's `err`); routes and ticket priorities
 * need one scale. Unknown words map to nothing rather than to a guess.
 */
import type { Severity } from "./event.ts";

const synonyms: Readonly<Record<string, Severity>> = {
  critical: "critical",
  crit: "critical",
  emergency: "critical",
  emerg: "critical",
  alert: "critical",
  fatal: "critical",
  blocker: "critical",
  p1: "critical",
  sev1: "critical",
  high: "high",
  error: "high",
  err: "high",
  major: "high",
  p2: "high",
  sev2: "high",
  medium: "medium",
  moderate: "medium",
  warning: "medium",
  warn: "medium",
  p3: "medium",
  sev3: "medium",
  low: "low",
  minor: "low",
  notice: "low",
  p4: "low",
  sev4: "low",
  info: "info",
  informational: "info",
  information: "info",
  debug: "info",
  none: "info",
  unknown: "info",
  p5: "info",
  sev5: "info",
};

/** `"Warning"` → `medium`, `"P1"` → `critical`; undefined for words we do not know. */
export function normalizeSeverity(value: string): Severity | undefined {
  return synonyms[value.trim().toLowerCase()];
}
