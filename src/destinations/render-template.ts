/**
 * Rendering a destination's template part for one delivery, with template failures mapped into the
 * delivery vocabulary at this edge: `template_render_failed`, retried when the render-time limit
 * stopped it (a busy host can deschedule a legitimate render), dead-lettered at once otherwise (a
 * filter that throws, the output or memory limit, output that is not the JSON the part needs: the
 * same event fails the same way every time). Either is our own refusal: the provider was never
 * asked, so its circuit breaker is not charged (`isOwnRefusal`).
 */
import { PermanentError, RetryableError } from "../domain/errors.ts";
import type { TemplateContext } from "../templates/template-context.ts";
import type { CompiledTemplate } from "../templates/template-engine.ts";
import { TemplateError } from "../templates/template-error.ts";

/**
 * `template.render(context)`.
 * @throws RetryableError `template_render_failed` when the render-time limit stopped it;
 *   PermanentError `template_render_failed` for any other failure. Messages name the template and
 *   position, never event data.
 */
export function renderTemplatePart(template: CompiledTemplate, context: TemplateContext): string {
  try {
    return template.render(context);
  } catch (err) {
    if (err instanceof TemplateError && err.limit === "render_time") {
      throw new RetryableError("template_render_failed", err.message, { cause: err });
    }
    const message = err instanceof TemplateError ? err.message : `${template.name}: template failed`;
    throw new PermanentError("template_render_failed", message, { cause: err });
  }
}
