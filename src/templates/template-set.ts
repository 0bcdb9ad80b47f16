/**
 * Template sets: for each destination type, the named parts a user can template, each with its
 * output kind, output cap and default (defaults.ts). A destination's (or route's) `template:` mapping
 * in the YAML overrides parts by name; the rest keep their defaults.
 *
 * The webhook `body` has no default template on purpose: without one, the destination sends the
 * canonical event as JSON exactly as before (webhook/render-body.ts: same bytes, no size cap beyond
 * the intake's, no render cost). A user who sets `body` opts into a template whose output must be
 * valid JSON (`webhookBodyTemplate` in defaults.ts is the equivalent starting point).
 */
import {
  jiraDescriptionTemplate,
  jiraSummaryTemplate,
  observationFieldsTemplate,
  serviceNowDescriptionTemplate,
  serviceNowShortDescriptionTemplate,
  slackBlocksTemplate,
  slackTextTemplate,
} from "./defaults.ts";
import { sampleTemplateContexts } from "./sample-events.ts";
import type { TemplateContext } from "./template-context.ts";
import type { CompiledTemplate, TemplateEngine, TemplateOutput } from "./template-engine.ts";
import { createTemplateEngine } from "./template-engine.ts";
import { TemplateError } from "./template-error.ts";
import { defaultTemplateLimits, largeOutputChars } from "./template-limits.ts";

export interface TemplatePartSpec {
  readonly output: TemplateOutput;
  /** Output cap of the part, in UTF-16 code units. */
  readonly maxOutputChars: number;
  /** The default Liquid source; `undefined`: the destination's built-in rendering applies. */
  readonly defaultSource: string | undefined;
}

const textPart = (defaultSource: string): TemplatePartSpec & { readonly defaultSource: string } => ({
  output: "text",
  maxOutputChars: defaultTemplateLimits.maxOutputChars,
  defaultSource,
});

/** The templatable parts of each destination type. */
export const templateParts = {
  webhook: {
    /** The request body; valid JSON of any kind. No default: see the module comment. */
    body: { output: "json", maxOutputChars: largeOutputChars, defaultSource: undefined },
  },
  slack: {
    /** `text`: the notification / fallback line. */
    text: textPart(slackTextTemplate),
    /** `blocks`: a JSON array of Block Kit blocks. */
    blocks: {
      output: "json-array",
      maxOutputChars: defaultTemplateLimits.maxOutputChars,
      defaultSource: slackBlocksTemplate,
    },
  },
  jira: {
    /** One line; the destination cuts it to 255 characters. */
    summary: textPart(jiraSummaryTemplate),
    /** Light Markdown, turned into ADF by the destination. */
    description: textPart(jiraDescriptionTemplate),
  },
  servicenow: {
    /** One line; the destination cuts it to 160 characters. */
    short_description: textPart(serviceNowShortDescriptionTemplate),
    description: textPart(serviceNowDescriptionTemplate),
  },
  observation: {
    /** `{category, severity, eventType, resource?, details}` of the Observation's spec. */
    fields: {
      output: "json-object",
      maxOutputChars: largeOutputChars,
      defaultSource: observationFieldsTemplate,
    },
  },
} as const satisfies Readonly<Record<string, Readonly<Record<string, TemplatePartSpec>>>>;

export type TemplatedDestinationType = keyof typeof templateParts;
export type TemplatePartName<T extends TemplatedDestinationType> = keyof (typeof templateParts)[T] & string;

/** Compiled parts of one destination: parts with a default are always there. */
export type CompiledTemplateSet<T extends TemplatedDestinationType> = {
  readonly [P in TemplatePartName<T>]: (typeof templateParts)[T][P] extends { readonly defaultSource: string }
    ? CompiledTemplate
    : CompiledTemplate | undefined;
};

/**
 * A user's template for one part: its source (errors are located at `<namePrefix>.<part>:line:col`),
 * or its source and the name to locate errors by (e.g. the file it was read from).
 */
export type TemplateOverride = string | { readonly source: string; readonly name: string };

/** One config problem or warning line: `<location>: <message>` (see config/problems.ts). */
export interface TemplateProblem {
  readonly location: string;
  readonly message: string;
}

export type TemplateSetResult<T extends TemplatedDestinationType> =
  | {
      readonly ok: true;
      readonly templates: CompiledTemplateSet<T>;
      /** Parts that compiled but failed to render a sample event; worth printing, not fatal. */
      readonly warnings: readonly TemplateProblem[];
    }
  | {
      readonly ok: false;
      readonly problems: readonly TemplateProblem[];
      readonly warnings: readonly TemplateProblem[];
    };

export interface CompileTemplateSetOptions {
  /** Default: one engine with the default limits, shared by every call. */
  readonly engine?: TemplateEngine;
  /** Contexts each user template is test-rendered with; default `sampleTemplateContexts`. */
  readonly samples?: readonly { readonly name: string; readonly context: TemplateContext }[];
}

let sharedEngine: TemplateEngine | undefined;
/** Compiled defaults by engine: they are immutable, so every destination of a type shares them. */
const compiledDefaults = new WeakMap<TemplateEngine, Map<string, CompiledTemplate>>();

/**
 * Compiles the parts of `type`: each override replaces that part's default. Reports every problem at
 * once (unknown part names, empty or invalid templates), never just the first. Each overriding
 * template is also rendered against the sample events; a failure there (e.g. broken JSON) is a
 * warning, since a template written for one source may legitimately not fit another's events.
 * @param namePrefix config path of the `template:` mapping, e.g. `tenants[0].destinations[1].template`.
 */
export function compileTemplateSet<T extends TemplatedDestinationType>(
  type: T,
  overrides: Readonly<Record<string, TemplateOverride>>,
  namePrefix: string,
  options: CompileTemplateSetOptions = {},
): TemplateSetResult<T> {
  sharedEngine ??= createTemplateEngine();
  const engine = options.engine ?? sharedEngine;
  const samples = options.samples ?? sampleTemplateContexts;
  const parts: Readonly<Record<string, TemplatePartSpec>> = templateParts[type];
  const problems: TemplateProblem[] = [];
  const warnings: TemplateProblem[] = [];

  for (const part of Object.keys(overrides)) {
    if (!Object.hasOwn(parts, part)) {
      problems.push({
        location: partName(namePrefix, part),
        message: `unknown template part for a ${type} destination; known: ${Object.keys(parts).join(", ")}`,
      });
    }
  }

  const compiled: Record<string, CompiledTemplate | undefined> = {};
  for (const [part, spec] of Object.entries(parts)) {
    const override = Object.hasOwn(overrides, part) ? overrides[part] : undefined;
    if (override === undefined) {
      compiled[part] = undefined;
      if (spec.defaultSource === undefined) continue;
      try {
        compiled[part] = defaultFor(engine, `default:${type}.${part}`, spec.defaultSource, spec);
      } catch (err) {
        // Only an engine with limits too tight for our own defaults gets here.
        if (!(err instanceof TemplateError)) throw err;
        problems.push({ location: partName(namePrefix, part), message: `default template: ${err.message}` });
      }
      continue;
    }
    const source = typeof override === "string" ? override : override.source;
    const name = typeof override === "string" ? partName(namePrefix, part) : override.name;
    if (source.trim() === "") {
      problems.push({ location: name, message: "empty template; leave the part out to use the default" });
      continue;
    }
    try {
      const template = engine.compile(source, name, spec);
      compiled[part] = template;
      warnings.push(...sampleWarnings(template, samples));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      problems.push({ location: err.location, message: err.detail });
    }
  }

  if (problems.length > 0) return { ok: false, problems, warnings };
  return { ok: true, templates: compiled as CompiledTemplateSet<T>, warnings };
}

/**
 * The default parts of `type` (each compiled once per engine and shared): what a destination renders
 * with when its config has no `templates:`.
 * @throws Error only if a default template does not compile with the shared engine (a bug).
 */
export function defaultTemplateSet<T extends TemplatedDestinationType>(type: T): CompiledTemplateSet<T> {
  const result = compileTemplateSet(type, {}, `default:${type}`);
  if (!result.ok) {
    throw new Error(`default ${type} templates do not compile: ${result.problems[0]?.message ?? "?"}`);
  }
  return result.templates;
}

function defaultFor(
  engine: TemplateEngine,
  name: string,
  source: string,
  spec: TemplatePartSpec,
): CompiledTemplate {
  let byName = compiledDefaults.get(engine);
  if (!byName) {
    byName = new Map();
    compiledDefaults.set(engine, byName);
  }
  let template = byName.get(name);
  if (!template) {
    template = engine.compile(source, name, spec);
    byName.set(name, template);
  }
  return template;
}

function sampleWarnings(
  template: CompiledTemplate,
  samples: readonly { readonly name: string; readonly context: TemplateContext }[],
): TemplateProblem[] {
  for (const sample of samples) {
    try {
      template.render(sample.context);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      // One warning per part is enough to send the user looking.
      return [
        { location: err.location, message: `${err.detail} (rendering the sample ${sample.name} event)` },
      ];
    }
  }
  return [];
}

const identifier = /^[A-Za-z_$][\w$]*$/;

/** `tenants[0].destinations[1].template` + `summary` → `….template.summary` (quoted when not an identifier). */
function partName(prefix: string, part: string): string {
  const segment = identifier.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  return prefix === "" ? segment.replace(/^\./, "") : `${prefix}${segment}`;
}
