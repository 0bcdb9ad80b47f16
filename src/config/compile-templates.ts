/**
 * Compiles a destination's `templates:` mapping (part → Liquid source or `{ file: /path }`) with the
 * template engine, once, at load: a broken template is a config problem naming its place and
 * line:col (`tenants[0].destinations[1].templates.summary:1:5: …`, or `/etc/zen/summary.liquid:3:1: …`
 * for a file), never a runtime surprise. Which parts each type has, and their defaults, is
 * templates/template-set.ts's business.
 */
import { isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import {
  compileTemplateSet,
  type TemplatedDestinationType,
  type TemplateOverride,
  templateParts,
} from "../templates/template-set.ts";
import type { DestinationTemplates } from "./config.ts";
import type { destinationTemplatesSchema } from "./file-schema.ts";
import { compiledArtifact } from "./frozen.ts";
import { type FieldPath, formatPath, type Problems } from "./problems.ts";
import { readErrorReason } from "./read-file.ts";
import type { SecretSources } from "./secrets.ts";
import { closest } from "./zod-issues.ts";

/**
 * @param raw the parsed `templates:` node; undefined or empty: the type's defaults (returns undefined).
 * @param sources file reading and the directory relative template paths start from.
 * @returns the compiled parts, or undefined (defaults, or problems recorded: check `problems.count`).
 */
export function compileDestinationTemplates<T extends TemplatedDestinationType>(
  type: T,
  raw: z.output<typeof destinationTemplatesSchema> | undefined,
  path: FieldPath,
  sources: Pick<SecretSources, "readFile" | "baseDir">,
  problems: Problems,
): DestinationTemplates<T> | undefined {
  if (raw === undefined || Object.keys(raw).length === 0) return undefined;
  const known = Object.keys(templateParts[type]);
  const overrides: Record<string, TemplateOverride> = {};
  let skipped = false;
  for (const [part, value] of Object.entries(raw)) {
    if (!known.includes(part)) {
      const guess = closest(part, known);
      problems.at(
        [...path, part],
        guess === undefined
          ? `unknown template part for a ${type} destination; known: ${known.join(", ")}`
          : `unknown template part for a ${type} destination (did you mean "${guess}"?)`,
      );
      skipped = true;
      continue;
    }
    if (typeof value === "string") {
      overrides[part] = value;
      continue;
    }
    const file = isAbsolute(value.file) ? value.file : resolve(sources.baseDir, value.file);
    try {
      overrides[part] = { source: sources.readFile(file), name: file };
    } catch (err) {
      problems.at([...path, part, "file"], `cannot read template file ${file}: ${readErrorReason(err)}`);
      skipped = true;
    }
  }
  const result = compileTemplateSet(type, overrides, formatPath(path));
  if (!result.ok) {
    for (const problem of result.problems) problems.add(problem.location, problem.message);
    return undefined;
  }
  if (skipped) return undefined;
  return {
    parts: compiledArtifact(Object.freeze(result.templates)),
    custom: Object.keys(raw),
    warnings: result.warnings.map((w) => `${w.location}: ${w.message}`),
  };
}
