/**
 * Safety limits of the template engine. Templates come from the config file, data from the outside
 * world; either can be hostile or just wrong (a loop over a huge array, a string doubled in a loop).
 * A render runs synchronously on the worker's event loop, so every limit here is also a bound on how
 * long one render can hold that loop and how much memory it can take.
 */

export interface TemplateLimits {
  /**
   * Wall-clock budget of one render, in milliseconds (LiquidJS `renderLimit`). Checked before every
   * tag, output and text node, so a runaway loop stops within one node of the budget.
   */
  readonly renderTimeMs: number;
  /**
   * Allocation budget of one render, in LiquidJS's units (LiquidJS `memoryLimit`): roughly one unit per
   * character of a string a filter builds (`append`, `replace`, `json`, `join`, …), per array element
   * it creates (`(1..n)` ranges, `split`, `concat`, `map`, …) and, here, per character captured by
   * `{% capture %}`. Charged cumulatively over the render.
   */
  readonly memoryUnits: number;
  /** Longest output of a render, in UTF-16 code units; a part can set a lower or higher cap. */
  readonly maxOutputChars: number;
  /** Longest template source, in UTF-16 code units (also LiquidJS `parseLimit`). */
  readonly maxSourceChars: number;
}

/**
 * The defaults. In wall-clock terms:
 * - `renderTimeMs: 500`: a normal template renders in well under 1 ms; a runaway one holds the
 *   worker's event loop for at most ~0.5 s (plus the one node it was in) before it fails. Not lower:
 *   on a loaded 2-core host a legitimate render can be descheduled for tens of milliseconds.
 * - `memoryUnits: 8 Mi`: at most ~16 MB of intermediate strings (UTF-16) or ~64 MB of array slots per
 *   render; rendering a 1 MiB event through `json` and `truncate` uses about 2–3 Mi.
 * - `maxOutputChars: 256 KiB`: far above what Slack (3 000 characters per block), Jira (32 767 per
 *   field) or ServiceNow accept, so only a broken template reaches it; the parts that carry whole
 *   payloads (webhook body, Observation fields) raise it to {@link largeOutputChars}.
 * - `maxSourceChars: 64 KiB`: a template is a few hundred characters; parsing 64 KiB takes a few ms.
 */
export const defaultTemplateLimits: TemplateLimits = Object.freeze({
  renderTimeMs: 500,
  memoryUnits: 8 * 1_048_576,
  maxOutputChars: 256 * 1024,
  maxSourceChars: 64 * 1024,
});

/** Output cap of the parts that carry a whole payload: the default 1 MiB intake body, plus markup. */
export const largeOutputChars = 2 * 1_048_576;
