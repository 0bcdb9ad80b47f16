/**
 * The template engine: LiquidJS, sandboxed and bounded. Templates are compiled once (at startup or
 * `zen config check`) and rendered per delivery.
 *
 * Threat: templates come from the config file and render data from the outside world. A template
 * must not read the host's files, reach JavaScript internals (`constructor`, `__proto__`) of the
 * data, or take the worker down with a runaway loop or a huge output. Where each is stopped:
 * - files: `include`/`render`/`layout` are refused at parse time (sandbox-tags.ts, authoritative);
 *   the engine's `fs` refuses every read and no directory is configured (second layer).
 * - internals: `ownPropertyOnly` (LiquidJS reads only own properties of the data).
 * - resources: template-limits.ts (render time, memory, output size, source size), enforced by
 *   LiquidJS's limiters and our emitters (emitters.ts), checked at every write.
 *
 * Rendering is synchronous on purpose: LiquidJS enforces the same limits in sync mode, we register no
 * async filter and no file access, and its async mode only adds microtask hops that never let other
 * I/O run in between, so it would be slower without being any fairer to the event loop.
 */
import type { FS, Template } from "liquidjs";
import { Context, Liquid, LiquidError, toValueSync } from "liquidjs";
import { CappedEmitter, OutputLimitExceeded } from "./emitters.ts";
import { templateFilters } from "./filters.ts";
import { ChargedCaptureTag, fileTags, RefusedFileTag } from "./sandbox-tags.ts";
import { TemplateError, type TemplateLimitName } from "./template-error.ts";
import { defaultTemplateLimits, type TemplateLimits } from "./template-limits.ts";

/**
 * What a template must produce. `text` is taken as is; the `json*` kinds must parse as JSON (an
 * object or an array for the narrower two), else the render fails with `template_render_failed`.
 */
export type TemplateOutput = "text" | "json" | "json-object" | "json-array";

export interface CompileOptions {
  /** Default `text`. */
  readonly output?: TemplateOutput;
  /** Output cap of this template, in UTF-16 code units; default the engine's `maxOutputChars`. */
  readonly maxOutputChars?: number;
}

/** A parsed template, ready to render any number of times (renders share no state). */
export interface CompiledTemplate {
  /** The name errors carry: a file path or a config path. */
  readonly name: string;
  readonly output: TemplateOutput;
  readonly maxOutputChars: number;
  /**
   * Renders with `context`'s own properties as top-level variables (see template-context.ts). Never
   * returns partial output; for `json*` outputs the text is checked to parse.
   * @throws TemplateError code `template_render_failed` (`limit` set when a safety limit stopped it).
   */
  render(context: object): string;
  /**
   * Renders and parses the output as JSON (an object or array when `output` says so).
   * @throws TemplateError code `template_render_failed`, also when a `text` template's output is not JSON.
   */
  renderJson(context: object): unknown;
}

export interface TemplateEngine {
  readonly limits: TemplateLimits;
  /**
   * Parses `source` once. `name` locates errors: `<name>:<line>:<col>: <message>`.
   * @throws TemplateError code `template_invalid` (syntax, unknown filter or tag, refused tag, too long).
   */
  compile(source: string, name: string, options?: CompileOptions): CompiledTemplate;
}

export interface TemplateEngineOptions {
  /** Overrides of {@link defaultTemplateLimits}. */
  readonly limits?: Partial<TemplateLimits>;
  /** IANA time zone of the `date` filter; default `UTC` (not the host's, so output is the same everywhere). */
  readonly timeZone?: string;
}

/** Longest error detail we pass on (LiquidJS quotes whole tags in some messages). */
const maxDetailChars = 300;

/** The `fs` of every engine: no template is ever read from anywhere. */
const refusingFs: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file) => refuseRead(file),
  readFileSync: (file) => refuseRead(file),
  resolve: (_dir, file) => file,
  contains: async () => false,
  containsSync: () => false,
  sep: "/",
  dirname: () => "",
  fallback: () => undefined,
};

function refuseRead(_file: string): never {
  throw new Error("templates cannot read files");
}

/** A sandboxed, bounded LiquidJS engine with our filters (filters.ts). */
export function createTemplateEngine(options: TemplateEngineOptions = {}): TemplateEngine {
  const limits: TemplateLimits = Object.freeze({ ...defaultTemplateLimits, ...options.limits });
  const liquid = new Liquid({
    // No file system: no directories, no relative or dynamic paths, a refusing fs, no cache.
    fs: refusingFs,
    root: [],
    partials: [],
    layouts: [],
    relativeReference: false,
    dynamicPartials: false,
    cache: false,
    // Data is read, never walked into its prototype chain; a typo in a filter name is a config error.
    ownPropertyOnly: true,
    strictFilters: true,
    // Canonical events leave optional fields out: a missing variable renders empty, as in Shopify.
    strictVariables: false,
    parseLimit: limits.maxSourceChars,
    renderLimit: limits.renderTimeMs,
    memoryLimit: limits.memoryUnits,
    timezoneOffset: options.timeZone ?? "UTC",
    locale: "en-US",
  });
  for (const tag of fileTags) liquid.registerTag(tag, RefusedFileTag);
  liquid.registerTag("capture", ChargedCaptureTag);
  for (const [name, filter] of Object.entries(templateFilters)) liquid.registerFilter(name, filter);

  return {
    limits,
    compile(source, name, compileOptions = {}) {
      if (source.length > limits.maxSourceChars) {
        throw new TemplateError(
          "template_invalid",
          `template is longer than ${limits.maxSourceChars} characters`,
          { templateName: name, limit: "source_size" },
        );
      }
      let templates: Template[];
      try {
        templates = liquid.parse(source);
      } catch (err) {
        throw toTemplateError("template_invalid", err, name, limits);
      }
      return new LiquidTemplate(liquid, templates, name, limits, {
        output: compileOptions.output ?? "text",
        maxOutputChars: compileOptions.maxOutputChars ?? limits.maxOutputChars,
      });
    },
  };
}

let sharedEngine: TemplateEngine | undefined;

/** {@link TemplateEngine.compile} on a shared engine with the default limits. */
export function compileTemplate(source: string, name: string, options?: CompileOptions): CompiledTemplate {
  sharedEngine ??= createTemplateEngine();
  return sharedEngine.compile(source, name, options);
}

class LiquidTemplate implements CompiledTemplate {
  readonly output: TemplateOutput;
  readonly maxOutputChars: number;

  constructor(
    private readonly liquid: Liquid,
    private readonly templates: Template[],
    readonly name: string,
    private readonly limits: TemplateLimits,
    options: { readonly output: TemplateOutput; readonly maxOutputChars: number },
  ) {
    this.output = options.output;
    this.maxOutputChars = options.maxOutputChars;
  }

  render(context: object): string {
    const text = this.renderText(context);
    if (this.output !== "text") this.parseOutput(text);
    return text;
  }

  renderJson(context: object): unknown {
    return this.parseOutput(this.renderText(context));
  }

  private renderText(context: object): string {
    // A fresh top-level scope: `{% increment %}` writes there, and must not touch the caller's object.
    const scope: Record<string, unknown> = Object.assign(Object.create(null), context);
    const ctx = new Context(scope, this.liquid.options, { sync: true }, { liquid: this.liquid });
    const emitter = new CappedEmitter(this.maxOutputChars);
    try {
      toValueSync(this.liquid.renderer.renderTemplates(this.templates, ctx, emitter));
    } catch (err) {
      throw toTemplateError("template_render_failed", err, this.name, this.limits, this.maxOutputChars);
    }
    return emitter.buffer;
  }

  private parseOutput(text: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new TemplateError(
        "template_render_failed",
        `output is not valid JSON: ${jsonReason(err, text)}`,
        {
          templateName: this.name,
          cause: err,
        },
      );
    }
    const expected =
      this.output === "json-object" ? "object" : this.output === "json-array" ? "array" : undefined;
    if (expected !== undefined && jsonKind(value) !== expected) {
      throw new TemplateError(
        "template_render_failed",
        `output must be a JSON ${expected}, not ${article(jsonKind(value))}`,
        { templateName: this.name },
      );
    }
    return value;
  }
}

/** A LiquidJS (or other) error as a TemplateError: position from its token, limit named. */
function toTemplateError(
  code: TemplateError["code"],
  err: unknown,
  name: string,
  limits: TemplateLimits,
  maxOutputChars = limits.maxOutputChars,
): TemplateError {
  const liquidError = LiquidError.is(err) ? err : undefined;
  const original: unknown = liquidError?.originalError ?? err;
  const [line, column] = liquidError?.token ? liquidError.token.getPosition() : [undefined, undefined];
  const where = { templateName: name, line, column, cause: err };
  const limit = limitOf(original);
  if (limit !== undefined) {
    const detail: Record<TemplateLimitName, string> = {
      render_time: `render time limit (${limits.renderTimeMs} ms) exceeded`,
      memory: `memory limit (${limits.memoryUnits} units) exceeded`,
      output_size: `output size limit (${maxOutputChars} characters) exceeded`,
      source_size: `template is longer than ${limits.maxSourceChars} characters`,
    };
    return new TemplateError(code, detail[limit], { ...where, limit });
  }
  return new TemplateError(code, shortMessage(original), where);
}

/** LiquidJS's limiters throw AssertionErrors with fixed messages (`<resource> limit exceeded`). */
function limitOf(err: unknown): TemplateLimitName | undefined {
  if (err instanceof OutputLimitExceeded) return "output_size";
  if (!(err instanceof Error)) return undefined;
  if (err.message === "template render limit exceeded") return "render_time";
  if (err.message === "memory alloc limit exceeded") return "memory";
  if (err.message === "parse length limit exceeded") return "source_size";
  return undefined;
}

/** First line of the message, without LiquidJS's `, line:N, col:M` suffix (we add the position ourselves). */
function shortMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = (message.split("\n")[0] ?? "").replace(/, line:\d+, col:\d+$/, "").trim();
  const text = first === "" ? "template error" : first;
  return text.length > maxDetailChars ? `${text.slice(0, maxDetailChars - 1)}…` : text;
}

/**
 * Why JSON.parse refused `text`, with the position in the output when V8 gives one. V8's messages may
 * quote a snippet of the output (`…, "{"a": sec"... is not valid JSON`), which is event data: the
 * snippet is cut off, and a message that still holds a double quote is replaced by a generic one.
 */
function jsonReason(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : "";
  const cut = message
    .replace(/, (?:\.\.\.)?".*$/s, "")
    .replace(/ in JSON at position \d+.*$/s, "")
    .trim();
  const reason = cut === "" || cut.includes('"') ? "syntax error" : cut;
  const at = /at position (\d+)/.exec(message)?.[1];
  if (at === undefined) return reason;
  const before = text.slice(0, Number(at));
  const line = before.split("\n").length;
  const column = Number(at) - before.lastIndexOf("\n");
  return `${reason} at output line ${line}, column ${column}`;
}

function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function article(kind: string): string {
  return kind === "null" ? "null" : /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}
