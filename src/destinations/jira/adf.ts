/**
 * Plain text / light Markdown → Atlassian Document Format (ADF), the only rich-text format Jira Cloud
 * REST v3 accepts for `description` and comment bodies (reference: providers.md §2.6).
 *
 * Supported: paragraphs (blank-line separated; single newlines become `hardBreak`), ATX headings
 * (`#`–`######`), bullet lists (`-`, `*`, `+`), ordered lists (`1.`), fenced code blocks (```` ``` ````
 * or `~~~`, optional language), thematic breaks (`---`), and inline: `[text](url)` links, bare
 * `http(s)://` URLs, `` `code` `` and `**strong**`. Anything else is kept as literal text.
 *
 * Jira answers 400 for a text node with an empty `text`, for marks inside a code block and for
 * documents over its size limit, so the output never contains an empty text node, code blocks carry
 * no marks, and the serialized document is bounded (`adfLimits`), cutting the input text if needed.
 */

export type AdfMark =
  | { readonly type: "strong" }
  | { readonly type: "code" }
  | { readonly type: "link"; readonly attrs: { readonly href: string } };

export interface AdfText {
  readonly type: "text";
  /** Never empty (ADF `minLength: 1`). */
  readonly text: string;
  readonly marks?: readonly AdfMark[];
}

export interface AdfHardBreak {
  readonly type: "hardBreak";
}

export type AdfInline = AdfText | AdfHardBreak;

export interface AdfParagraph {
  readonly type: "paragraph";
  readonly content: readonly AdfInline[];
}

export interface AdfHeading {
  readonly type: "heading";
  readonly attrs: { readonly level: 1 | 2 | 3 | 4 | 5 | 6 };
  readonly content: readonly AdfInline[];
}

export interface AdfCodeBlock {
  readonly type: "codeBlock";
  readonly attrs?: { readonly language: string };
  /** Absent for an empty block: one unmarked text node otherwise. */
  readonly content?: readonly AdfText[];
}

export interface AdfListItem {
  readonly type: "listItem";
  readonly content: readonly [AdfParagraph];
}

export interface AdfBulletList {
  readonly type: "bulletList";
  readonly content: readonly AdfListItem[];
}

export interface AdfOrderedList {
  readonly type: "orderedList";
  readonly attrs: { readonly order: number };
  readonly content: readonly AdfListItem[];
}

export interface AdfRule {
  readonly type: "rule";
}

export type AdfBlock = AdfParagraph | AdfHeading | AdfCodeBlock | AdfBulletList | AdfOrderedList | AdfRule;

export interface AdfDoc {
  readonly type: "doc";
  readonly version: 1;
  readonly content: readonly AdfBlock[];
}

/**
 * Size bounds. Jira stores at most 32 767 characters in a rich-text field (the serialized ADF counts),
 * so documents are kept under that; input text beyond `maxTextChars` is cut before conversion.
 */
export const adfLimits = Object.freeze({
  maxTextChars: 30_000,
  maxJsonChars: 32_767,
});

const truncationNote = "… (truncated)";

export interface ToAdfOptions {
  /** Default `adfLimits.maxTextChars`. */
  readonly maxTextChars?: number;
  /** Default `adfLimits.maxJsonChars`. */
  readonly maxJsonChars?: number;
}

/**
 * Converts plain text or light Markdown into an ADF document. Never throws; never emits an empty text
 * node; `JSON.stringify(result).length <= maxJsonChars` (the text is cut, with a note, when needed;
 * a bound too small for even the note gives an empty document). An empty or blank input gives a
 * document with no content.
 */
export function toAdf(text: string, options: ToAdfOptions = {}): AdfDoc {
  const maxTextChars = Math.max(0, options.maxTextChars ?? adfLimits.maxTextChars);
  const maxJsonChars = options.maxJsonChars ?? adfLimits.maxJsonChars;
  let source = cleanText(text);
  if (source.length > maxTextChars) source = `${cutAt(source, maxTextChars)}\n\n${truncationNote}`;
  let doc = convert(source);
  // Markup overhead makes the JSON longer than the text: shrink proportionally until it fits.
  for (let round = 0; JSON.stringify(doc).length > maxJsonChars; round++) {
    if (round >= 8 || source === truncationNote) return { type: "doc", version: 1, content: [] };
    const keep = Math.floor(source.length * (maxJsonChars / JSON.stringify(doc).length) * 0.9);
    source = keep <= 0 ? truncationNote : `${cutAt(source, keep)}\n\n${truncationNote}`;
    doc = convert(source);
  }
  return doc;
}

/** The text content of an ADF node: text nodes in order, a newline per hard break and between blocks. */
export function adfPlainText(node: unknown): string {
  if (node === null || typeof node !== "object") return "";
  const n = node as { type?: unknown; text?: unknown; content?: unknown };
  if (n.type === "text") return typeof n.text === "string" ? n.text : "";
  if (n.type === "hardBreak") return "\n";
  if (!Array.isArray(n.content)) return "";
  const parts = n.content.map(adfPlainText);
  const inline = n.type === "paragraph" || n.type === "heading";
  return parts.join(inline ? "" : "\n");
}

/** CRLF/CR → LF; control characters other than tab and newline dropped (Jira refuses some of them). */
function cleanText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "");
}

/** The first `n` UTF-16 units, without splitting a surrogate pair. */
function cutAt(text: string, n: number): string {
  if (n >= text.length) return text;
  const end = n > 0 && isHighSurrogate(text.charCodeAt(n - 1)) ? n - 1 : n;
  return text.slice(0, Math.max(0, end));
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

const fenceOpen = /^ {0,3}(`{3,}|~{3,})[ \t]*([\w+#.-]{0,40})[ \t]*$/;
const headingLine = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const bulletLine = /^[ \t]*[-*+][ \t]+(.*)$/;
const orderedLine = /^[ \t]*(\d{1,9})[.)][ \t]+(.*)$/;
const ruleLine = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;

function isBlank(line: string): boolean {
  return line.trim() === "";
}

function convert(text: string): AdfDoc {
  const lines = text.split("\n");
  const blocks: AdfBlock[] = [];
  let paragraph: string[] = [];
  const flushParagraph = (): void => {
    if (paragraph.length === 0) return;
    const content = joinLines(paragraph);
    if (content.length > 0) blocks.push({ type: "paragraph", content });
    paragraph = [];
  };

  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const fence = fenceOpen.exec(line);
    if (fence) {
      flushParagraph();
      const marker = fence[1] ?? "```";
      const language = fence[2] ?? "";
      const code: string[] = [];
      i++;
      while (i < lines.length && !isClosingFence(lines[i] ?? "", marker)) code.push(lines[i++] ?? "");
      i++; // the closing fence (or past the end when the block was never closed)
      blocks.push(codeBlock(code.join("\n"), language));
      continue;
    }
    if (isBlank(line)) {
      flushParagraph();
      i++;
      continue;
    }
    const heading = headingLine.exec(line);
    if (heading) {
      flushParagraph();
      const content = inlineNodes(heading[2] ?? "");
      const level = Math.min(6, (heading[1] ?? "#").length) as AdfHeading["attrs"]["level"];
      if (content.length > 0) blocks.push({ type: "heading", attrs: { level }, content });
      i++;
      continue;
    }
    if (ruleLine.test(line)) {
      flushParagraph();
      blocks.push({ type: "rule" });
      i++;
      continue;
    }
    if (bulletLine.test(line)) {
      flushParagraph();
      const items: AdfListItem[] = [];
      for (let m = bulletLine.exec(line); m && i < lines.length; m = bulletLine.exec(lines[i] ?? "")) {
        pushItem(items, m[1] ?? "");
        i++;
      }
      if (items.length > 0) blocks.push({ type: "bulletList", content: items });
      continue;
    }
    const ordered = orderedLine.exec(line);
    if (ordered) {
      flushParagraph();
      const items: AdfListItem[] = [];
      for (
        let m: RegExpExecArray | null = ordered;
        m && i < lines.length;
        m = orderedLine.exec(lines[i] ?? "")
      ) {
        pushItem(items, m[2] ?? "");
        i++;
      }
      const order = Number(ordered[1]);
      if (items.length > 0) blocks.push({ type: "orderedList", attrs: { order }, content: items });
      continue;
    }
    paragraph.push(line);
    i++;
  }
  flushParagraph();
  return { type: "doc", version: 1, content: blocks };
}

function isClosingFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  const char = marker[0] ?? "`";
  return trimmed.length >= marker.length && [...trimmed].every((c) => c === char);
}

function codeBlock(code: string, language: string): AdfCodeBlock {
  const attrs = language === "" ? undefined : { language };
  const content: AdfText[] | undefined = code === "" ? undefined : [{ type: "text", text: code }];
  return { type: "codeBlock", ...(attrs && { attrs }), ...(content && { content }) };
}

/** A list item from its text; items with no text are left out (an empty bullet says nothing). */
function pushItem(items: AdfListItem[], text: string): void {
  const content = inlineNodes(text);
  if (content.length > 0) items.push({ type: "listItem", content: [{ type: "paragraph", content }] });
}

/** Lines of one paragraph, joined by hard breaks. */
function joinLines(lines: readonly string[]): AdfInline[] {
  const out: AdfInline[] = [];
  for (const line of lines) {
    const nodes = inlineNodes(line);
    if (nodes.length === 0) continue;
    if (out.length > 0) out.push({ type: "hardBreak" });
    out.push(...nodes);
  }
  return out;
}

// One alternation, leftmost match wins: `code`, [text](url), **strong**, bare URL.
const inlinePattern =
  /`([^`\n]+)`|\[([^\]\n]+)\]\(((?:https?:\/\/|mailto:)[^\s()]+)\)|\*\*([^*\n]+)\*\*|(https?:\/\/[^\s<>"'`[\]]+)/g;
const trailingPunctuation = /[.,;:!?)'"]+$/;

/** Inline nodes of one line; no empty text node is ever produced. */
function inlineNodes(line: string): AdfInline[] {
  const out: AdfInline[] = [];
  const text = (value: string, marks?: readonly AdfMark[]): void => {
    if (value === "") return;
    out.push(
      marks && marks.length > 0 ? { type: "text", text: value, marks } : { type: "text", text: value },
    );
  };
  let last = 0;
  for (const m of line.matchAll(inlinePattern)) {
    const start = m.index;
    const [whole, code, linkText, linkHref, strong, bare] = m;
    if (code !== undefined) {
      text(line.slice(last, start));
      text(code, [{ type: "code" }]);
    } else if (linkText !== undefined && linkHref !== undefined) {
      text(line.slice(last, start));
      const href = safeHref(linkHref);
      if (href) text(linkText, [{ type: "link", attrs: { href } }]);
      else text(whole);
    } else if (strong !== undefined) {
      text(line.slice(last, start));
      text(strong, [{ type: "strong" }]);
    } else if (bare !== undefined) {
      text(line.slice(last, start));
      const url = bare.replace(trailingPunctuation, "");
      const href = safeHref(url);
      if (href) text(url, [{ type: "link", attrs: { href } }]);
      else text(url);
      text(bare.slice(url.length));
    }
    last = start + whole.length;
  }
  text(line.slice(last));
  return mergeText(out);
}

/** Adjacent unmarked text nodes merged (literal fallbacks would otherwise fragment a line). */
function mergeText(nodes: AdfInline[]): AdfInline[] {
  const out: AdfInline[] = [];
  for (const node of nodes) {
    const prev = out[out.length - 1];
    if (node.type === "text" && !node.marks && prev?.type === "text" && !prev.marks) {
      out[out.length - 1] = { type: "text", text: prev.text + node.text };
    } else {
      out.push(node);
    }
  }
  return out;
}

/** Only absolute http(s) and mailto links: Jira renders anything else as a broken (or unsafe) link. */
function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "mailto:") return undefined;
    return candidate;
  } catch {
    return undefined;
  }
}
