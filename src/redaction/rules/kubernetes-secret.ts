/**
 * Kubernetes Secrets written out as text: a JSON or YAML manifest (a final request body, a
 * `last-applied-configuration` annotation, a log line). When the text declares `kind: Secret` (or
 * `SecretList`), every value of every `data`/`stringData` map in it becomes `[REDACTED_SECRET]`;
 * the keys stay. A JSON map this rule cannot take apart makes the whole redaction fail (closed),
 * rather than let a Secret value through. Objects (not text) are handled by `redactValue`.
 */
import { COLON } from "../features.ts";
import { placeholders } from "../kinds.ts";
import { plainLineEnd } from "../line-end.ts";
import type { Matches } from "../matches.ts";
import { RedactionError } from "../redaction-error.ts";
import type { StringRule } from "../rule.ts";

const secretKind =
  /(?:^|[^A-Za-z0-9_])kind\\?["']?[ \t]*:[ \t]*\\?["']?(?:Secret|SecretList)(?![A-Za-z0-9_])/m;
const jsonMap = /\\?"(?:data|stringData)\\?"[ \t\r\n]*:[ \t\r\n]*\{/g;
const yamlMap = /^([ \t]*)(?:data|stringData):[ \t]*(.*)$/gm;

function skipBlanks(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else if (c === 92 && /[nrt]/.test(text.charAt(i + 1))) i += 2;
    else return i;
  }
}

/** Index just past the string starting at `i` (`"…"` or, escaped inside a JSON string, `\"…\"`), or -1. */
function skipString(
  text: string,
  i: number,
): { readonly contentStart: number; readonly contentEnd: number } | undefined {
  const escaped = text.charCodeAt(i) === 92;
  if (escaped ? text.charCodeAt(i + 1) !== 34 : text.charCodeAt(i) !== 34) return undefined;
  const contentStart = i + (escaped ? 2 : 1);
  for (let j = contentStart; j < text.length; j++) {
    if (text.charCodeAt(j) !== 34) continue;
    let k = 0;
    while (text.charCodeAt(j - 1 - k) === 92) k++;
    if (escaped ? k === 1 : k % 2 === 0) return { contentStart, contentEnd: escaped ? j - 1 : j };
  }
  return undefined;
}

function redactJsonMap(text: string, open: number, out: Matches): void {
  let i = skipBlanks(text, open + 1);
  if (text.charCodeAt(i) === 125 /* } */) return;
  for (;;) {
    const key = skipString(text, i);
    if (key === undefined)
      throw new RedactionError("a Kubernetes Secret data map in text could not be parsed");
    i = skipBlanks(text, key.contentEnd + (text.charCodeAt(key.contentEnd) === 92 ? 2 : 1));
    if (text.charCodeAt(i) !== 58 /* : */) {
      throw new RedactionError("a Kubernetes Secret data map in text could not be parsed");
    }
    i = skipBlanks(text, i + 1);
    if (text.startsWith("null", i)) {
      i += 4;
    } else {
      const value = skipString(text, i);
      if (value === undefined) {
        throw new RedactionError("a Kubernetes Secret data value in text is not a string");
      }
      out.add(value.contentStart, value.contentEnd, placeholders.secret, "kubernetes_secret");
      i = value.contentEnd + (text.charCodeAt(value.contentEnd) === 92 ? 2 : 1);
    }
    i = skipBlanks(text, i);
    const c = text.charCodeAt(i);
    if (c === 44 /* , */) {
      i = skipBlanks(text, i + 1);
      continue;
    }
    if (c === 125 /* } */) return;
    throw new RedactionError("a Kubernetes Secret data map in text could not be parsed");
  }
}

function lineEnd(text: string, i: number): number {
  const n = text.indexOf("\n", i);
  const e = n === -1 ? text.length : n;
  return e > i && text.charCodeAt(e - 1) === 13 ? e - 1 : e;
}

/** Adds the YAML value starting at `v` (quoted, or plain up to the end of the line); answers where it ended. */
function addYamlValue(text: string, v: number, out: Matches, jsonDocument: boolean): number {
  const c = text.charCodeAt(v);
  // In a JSON document a bare `"` here closes the JSON string holding the YAML: nothing to redact.
  if (c === 34 && jsonDocument) return v;
  if (c === 34 || (c === 92 && text.charCodeAt(v + 1) === 34)) {
    const s = skipString(text, v);
    if (s !== undefined) {
      out.add(s.contentStart, s.contentEnd, placeholders.secret, "kubernetes_secret");
      return s.contentEnd + (text.charCodeAt(s.contentEnd) === 92 ? 2 : 1);
    }
  }
  if (c === 39) {
    const close = text.indexOf("'", v + 1);
    if (close !== -1) {
      out.add(v + 1, close, placeholders.secret, "kubernetes_secret");
      return close + 1;
    }
  }
  const end = plainLineEnd(text, v);
  out.add(v, end, placeholders.secret, "kubernetes_secret");
  return end;
}

/** True when `text[from, to)` holds an unescaped `"`: a JSON string around the YAML closed there. */
function closesJsonString(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 34 && text.charCodeAt(i - 1) !== 92) return true;
  return false;
}

function redactYamlMap(text: string, m: RegExpExecArray, out: Matches, jsonDocument: boolean): void {
  const indent = (m[1] as string).length;
  const rest = (m[2] as string).trim();
  const afterKey = m.index + m[0].length - (m[2] as string).length;
  if (rest.startsWith("{")) {
    const close = text.indexOf("}", afterKey);
    const open = text.indexOf("{", afterKey);
    out.add(
      open + 1,
      close === -1 ? plainLineEnd(text, open) : close,
      placeholders.secret,
      "kubernetes_secret",
    );
    return;
  }
  if (rest !== "" && !rest.startsWith("#")) {
    let v = afterKey;
    while (text.charCodeAt(v) === 32 || text.charCodeAt(v) === 9) v++;
    addYamlValue(text, v, out, jsonDocument);
    return;
  }
  // A block map: each entry line `key: value` keeps its key, deeper lines (block scalars) go whole.
  // Anything else ends the map: in a JSON body's decoded view, the YAML may sit inside a JSON string,
  // and what follows that string's closing quote is JSON, not YAML.
  let p = lineEnd(text, afterKey);
  let entryIndent = -1;
  while (p < text.length) {
    const start = text.indexOf("\n", p);
    if (start === -1) return;
    let q = start + 1;
    while (q < text.length && (text.charCodeAt(q) === 32 || text.charCodeAt(q) === 9)) q++;
    const fullEnd = lineEnd(text, q);
    p = fullEnd;
    if (q === fullEnd || text.charCodeAt(q) === 35 /* # */) continue;
    const column = q - start - 1;
    if (column <= indent) return;
    if (entryIndent === -1) entryIndent = column;
    let consumed: number;
    if (column === entryIndent) {
      let k = q;
      if (text.charCodeAt(q) === 34 || text.charCodeAt(q) === 39) {
        const close = text.charCodeAt(q) === 34 ? skipString(text, q)?.contentEnd : text.indexOf("'", q + 1);
        if (close === undefined || close === -1 || close >= fullEnd) return;
        k = close + 1;
      } else {
        while (k < fullEnd && !/[:\s"]/.test(text.charAt(k))) k++;
      }
      if (text.charCodeAt(k) !== 58 /* : */) return;
      let v = k + 1;
      while (v < fullEnd && (text.charCodeAt(v) === 32 || text.charCodeAt(v) === 9)) v++;
      consumed = v === fullEnd ? v : addYamlValue(text, v, out, jsonDocument);
    } else {
      consumed = plainLineEnd(text, q);
      out.add(q, consumed, placeholders.secret, "kubernetes_secret");
    }
    if (closesJsonString(text, consumed, fullEnd)) return;
  }
}

export const kubernetesSecretTextRule: StringRule = {
  name: "kubernetes-secret-text",
  kinds: ["kubernetes_secret"],
  needs: COLON,
  needsAny: 0,
  minLength: 0,
  find(text, out, env) {
    if (text.indexOf("Secret") === -1 || !secretKind.test(text)) return;
    if (text.indexOf("ata") === -1) return;
    jsonMap.lastIndex = 0;
    for (let m = jsonMap.exec(text); m !== null; m = jsonMap.exec(text)) {
      redactJsonMap(text, m.index + m[0].length - 1, out);
    }
    yamlMap.lastIndex = 0;
    for (let m = yamlMap.exec(text); m !== null; m = yamlMap.exec(text))
      redactYamlMap(text, m, out, env.jsonDocument);
  },
};
