/**
 * The one error the template engine raises. Two stable codes:
 * - `template_invalid`: the template does not compile (syntax, unknown filter or tag, a refused tag,
 *   too long). Found at startup / `zen config check`; reported as a config problem line.
 * - `template_render_failed`: rendering one event failed: a filter threw, a safety limit stopped it
 *   (`limit` says which), or the output is not the JSON the part must produce.
 *
 * `message` is `<name>:<line>:<col>: <detail>` (or `<name>: <detail>` when there is no position),
 * the shape of a config problem line. It quotes the template's position, never event data.
 */
import { ZenError } from "../domain/errors.ts";

export type TemplateErrorCode = "template_invalid" | "template_render_failed";

/** Which safety limit stopped a render (see template-limits.ts). */
export type TemplateLimitName = "render_time" | "memory" | "output_size" | "source_size";

export interface TemplateErrorDetails {
  /** Where the template comes from: a file path or a config path (`tenants[0].destinations[1].template.summary`). */
  readonly templateName: string;
  /** 1-based position in the template source, when LiquidJS knows it. */
  readonly line?: number;
  readonly column?: number;
  /** Set when a safety limit stopped the render. */
  readonly limit?: TemplateLimitName;
  readonly cause?: unknown;
}

export class TemplateError extends ZenError {
  declare readonly code: TemplateErrorCode;
  readonly templateName: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly limit: TemplateLimitName | undefined;
  /** The message without its location: what `Problems.add(location, detail)` wants. */
  readonly detail: string;
  /** `<name>:<line>:<col>`, or `<name>` when the position is unknown. */
  readonly location: string;

  constructor(code: TemplateErrorCode, detail: string, details: TemplateErrorDetails) {
    const location =
      details.line === undefined
        ? details.templateName
        : `${details.templateName}:${details.line}:${details.column ?? 1}`;
    super(code, `${location}: ${detail}`, { cause: details.cause });
    this.name = "TemplateError";
    this.templateName = details.templateName;
    this.line = details.line;
    this.column = details.line === undefined ? undefined : (details.column ?? 1);
    this.limit = details.limit;
    this.detail = detail;
    this.location = location;
  }
}
