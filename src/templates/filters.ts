/**
 * Our filters, on top of LiquidJS's built-ins (`upcase`, `truncate` (code-point safe), `squish`,
 * `default`, `date`, …). Each one is pure, charges what it builds to the render's memory limit, and
 * takes odd input in its stride (a missing value renders as empty, or `null` for `json`).
 */

import type { Context } from "liquidjs";
import { toValue } from "liquidjs";
import { escapeSlack } from "../destinations/slack/escape.ts";
import type { Severity } from "../domain/event.ts";
import { normalizeSeverity } from "../domain/severity.ts";

/** What LiquidJS binds `this` to in a filter (its `FilterImpl`, which the package does not export). */
interface FilterThis {
  readonly context: Context;
}

type Filter = (this: FilterThis, value: unknown, ...args: unknown[]) => string;

/** Widest indent `json` accepts, as JSON.stringify does. */
const maxJsonIndent = 10;

/**
 * `{{ value | json }}`, `{{ value | json: 2 }}`: JSON text, safe to splice into a JSON template
 * (strings come out quoted and escaped). Unlike the stock `json`, cycles and BigInts do not make it
 * throw: a cycle becomes `"[Circular]"`, a BigInt its decimal string; a missing value is `null`.
 * Replaces `json` and `jsonify`. The text is charged to the memory limit once built (its input is
 * event data, already bounded by the intake's body limit).
 */
function json(this: FilterThis, value: unknown, indent?: unknown): string {
  const space = typeof indent === "number" ? Math.max(0, Math.min(maxJsonIndent, Math.trunc(indent))) : 0;
  const path: unknown[] = [];
  const text = JSON.stringify(
    toValue(value),
    function (this: unknown, _key: string, val: unknown): unknown {
      if (typeof val === "bigint") return val.toString();
      if (val === null || typeof val !== "object") return val;
      // `this` is the holder of `val`: unwind the path to it, then look for `val` on the way up.
      while (path.length > 0 && path[path.length - 1] !== this) path.pop();
      if (path.includes(val)) return "[Circular]";
      path.push(val);
      return val;
    },
    space,
  );
  const out = text ?? "null";
  this.context.memoryLimit.use(out.length);
  return out;
}

const emojiBySeverity: Readonly<Record<Severity, string>> = {
  critical: "🔴",
  high: "🟠",
  medium: "🟡",
  low: "🔵",
  info: "⚪",
};

/**
 * `{{ event.severity | severity_emoji }}`: 🔴 critical, 🟠 high, 🟡 medium, 🔵 low, ⚪ info. Other
 * tools' words are understood too (`Warning` → 🟡, `P1` → 🔴); no or an unknown severity gives "".
 */
function severityEmoji(this: FilterThis, value: unknown): string {
  const word = toValue(value);
  if (typeof word !== "string") return "";
  const severity = normalizeSeverity(word);
  return severity === undefined ? "" : emojiBySeverity[severity];
}

/**
 * `{{ event.subject | slack_escape }}`: `&`, `<`, `>` as Slack wants them escaped in text. Without it
 * event data can smuggle `<!channel>` pings or `<https://evil|harmless text>` links into a message.
 */
function slackEscape(this: FilterThis, value: unknown): string {
  const text = textOf(value);
  this.context.memoryLimit.use(text.length);
  return escapeSlack(text);
}

/** `{{ event.resource | resource_text }}`: `Pod prod/api-7` (`Kind name` without a namespace); "" for none. */
function resourceText(this: FilterThis, value: unknown): string {
  const ref = toValue(value);
  if (ref === null || typeof ref !== "object" || Array.isArray(ref)) return "";
  const { kind, namespace, name } = ref as { kind?: unknown; namespace?: unknown; name?: unknown };
  const path = `${nonEmpty(namespace) ? `${namespace}/` : ""}${nonEmpty(name) ? name : ""}`;
  const out = [nonEmpty(kind) ? kind : "", path].filter((part) => part !== "").join(" ");
  this.context.memoryLimit.use(out.length);
  return out;
}

/**
 * `{{ event.type | underscore_slug }}`: lower case, every character outside `[a-z0-9_]` replaced by
 * `_` (`Terminal shell` → `terminal_shell`). The Observation CRD's `eventType` pattern, normalized the
 * way zen-watcher normalizes it.
 */
function underscoreSlug(this: FilterThis, value: unknown): string {
  const text = textOf(value);
  this.context.memoryLimit.use(text.length);
  return text.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

/**
 * `{{ event.data.html_url | http_url }}`: the value when it is an absolute `http:`/`https:` URL without
 * credentials, else "". For links built from payload data: a `javascript:` URL, a relative path or a
 * malformed URL that the receiving API would refuse (failing the whole message) renders nothing.
 */
function httpUrl(this: FilterThis, value: unknown): string {
  const text = toValue(value);
  if (typeof text !== "string" || text.length > maxUrlChars || /\s/.test(text)) return "";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "";
  return url.username === "" && url.password === "" ? text : "";
}

/** Longest URL `http_url` passes (Slack's button limit is 3 000; browsers go to ~64 K). */
const maxUrlChars = 8_192;

/** Scalars as text; anything else (nil, objects, arrays) as "", so no `toString` of the data ever runs. */
function textOf(value: unknown): string {
  const v: unknown = toValue(value);
  if (typeof v === "string") return v;
  return typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" ? String(v) : "";
}

function nonEmpty(value: unknown): value is string | number {
  return (typeof value === "string" && value !== "") || typeof value === "number";
}

/** Registered on every engine; `json` and `jsonify` replace the stock ones. */
export const templateFilters: Readonly<Record<string, Filter>> = Object.freeze({
  json,
  jsonify: json,
  severity_emoji: severityEmoji,
  slack_escape: slackEscape,
  resource_text: resourceText,
  underscore_slug: underscoreSlug,
  http_url: httpUrl,
});
