/**
 * Tag replacements that keep templates inside their sandbox.
 *
 * Threat: a template (from the config file) reading files on the host through `include`, `render` or
 * `layout` (`{% include '/etc/passwd' %}`, or a path taken from event data with dynamic partials).
 * The authoritative check is here, at parse time: those tags do not exist for our templates, so such
 * a template is a config error with its line and column. The engine's `fs` refuses every read as a
 * second layer (template-engine.ts).
 */
import type { Context, Liquid, TagToken, TopLevelToken } from "liquidjs";
import { CaptureTag, Tag } from "liquidjs";
import { ChargedEmitter } from "./emitters.ts";

/** Tags that read other templates (files); refused at parse time. */
export const fileTags: readonly string[] = ["include", "render", "layout"];

/** A tag that fails to parse: the template is refused with the tag's position. */
export class RefusedFileTag extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    throw new Error(`the "${token.name}" tag is not allowed: templates cannot read other templates or files`);
  }

  render(): void {
    // Never reached: the constructor always throws.
  }
}

/**
 * `{% capture %}` with its text charged to the render's memory limit as it is written. The stock tag
 * buffers without bound, so `{% capture s %}{{ s }}{{ s }}{% endcapture %}` in a loop doubles a
 * string until V8 gives up (hundreds of MB) before the time limit is next checked.
 */
export class ChargedCaptureTag extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, string> {
    const emitter = new ChargedEmitter(ctx.memoryLimit);
    yield this.liquid.renderer.renderTemplates(this.templates, ctx, emitter);
    ctx.bottom()[this.variable] = emitter.buffer;
  }
}
