/**
 * One string through every enabled rule: the pre-filter (feature bits), the rules on the string and
 * on its decoded views (JSON escapes, percent-encoding), the learned-namespace mentions, then one
 * merge of all findings. Strings in which nothing is found are returned as they are (no copy).
 */
import { BACKSLASH, featuresOf, PERCENT } from "./features.ts";
import { kindIndex, newTally, placeholders, type RedactionKind, type Tally } from "./kinds.ts";
import { LearnedNamespaces } from "./learned-namespaces.ts";
import { type FindingTarget, Matches, type RedactionFinding } from "./matches.ts";
import { isMentionableNamespace } from "./namespace-labeler.ts";
import type { CompiledRedactionPolicy } from "./policy.ts";
import type { RuleEnv } from "./rule.ts";
import { looksLikePemBody } from "./rules/tokens.ts";
import { jsonEscapeView, percentView, type TextView } from "./text-views.ts";

/**
 * Most namespaces learned per call for the mentions pass, which costs one search per name and string;
 * an event naming more namespaces than this has only its first ones redacted where merely mentioned.
 */
export const maxLearnedNamespaces = 64;

/** State of one `redactValue`/`redactText` call. */
export interface ScanRun extends RuleEnv {
  readonly policy: CompiledRedactionPolicy;
  readonly matches: Matches;
  /** Redactions per kind so far (see `countsOf`). */
  readonly tally: Tally;
  /** Namespaces found so far (name → replacement), for mentions. */
  readonly learned: LearnedNamespaces;
  readonly findings: RedactionFinding[] | undefined;
  /** The previous string of a structured value ended inside a PEM private key block. */
  pemOpen: boolean;
}

export function createScanRun(
  policy: CompiledRedactionPolicy,
  knownNamespaces: readonly string[] | undefined,
  findings: RedactionFinding[] | undefined,
): ScanRun {
  const learned = new LearnedNamespaces();
  const run: ScanRun = {
    policy,
    enabled: policy.enabled,
    namespaces: policy.namespaces,
    matches: new Matches(),
    tally: newTally(),
    learned,
    findings,
    pemOpen: false,
    pemUnterminated: false,
    jsonDocument: false,
    learnNamespace(name, replacement) {
      if (
        policy.redactMentions &&
        learned.size < maxLearnedNamespaces &&
        !learned.has(name) &&
        isMentionableNamespace(name)
      ) {
        learned.add(name, replacement);
      }
    },
  };
  if (knownNamespaces !== undefined && policy.enabled.has("namespace")) {
    for (const name of knownNamespaces) {
      const replacement = policy.namespaces.replacementFor(name);
      if (replacement !== undefined) run.learnNamespace(name, replacement);
    }
  }
  return run;
}

/** `scanString` flags. */
export const scanFlags = {
  /** Redact mentions of learned namespaces in this string. */
  mentions: 1,
  /** The string is part of a structured value (a PEM block may continue into the next string). */
  structured: 2,
  /** Only look for learned-namespace mentions (the second pass of `redactValue`). */
  mentionsOnly: 4,
} as const;

/**
 * Per policy: for each feature set seen, the indexes of the rules whose feature conditions it meets
 * (bounded: a policy sees a few hundred distinct sets). Saves testing every rule on every string.
 */
const rulesByFeatures = new WeakMap<CompiledRedactionPolicy, Map<number, Uint8Array>>();
const maxFeatureSets = 4096;

function rulesFor(policy: CompiledRedactionPolicy, features: number): Uint8Array {
  let byFeatures = rulesByFeatures.get(policy);
  if (byFeatures === undefined) {
    byFeatures = new Map();
    rulesByFeatures.set(policy, byFeatures);
  }
  let selected = byFeatures.get(features);
  if (selected === undefined) {
    const indexes: number[] = [];
    policy.rules.forEach((rule, i) => {
      if ((features & rule.needs) !== rule.needs) return;
      if (rule.needsAny !== 0 && (features & rule.needsAny) === 0) return;
      indexes.push(i);
    });
    selected = Uint8Array.from(indexes);
    if (byFeatures.size >= maxFeatureSets) byFeatures.clear();
    byFeatures.set(features, selected);
  }
  return selected;
}

function runRules(text: string, features: number, run: ScanRun): void {
  const rules = run.policy.rules;
  const selected = rulesFor(run.policy, features);
  const out = run.matches;
  for (let k = 0; k < selected.length; k++) {
    const i = selected[k] as number;
    const rule = rules[i] as (typeof rules)[number];
    if (text.length < rule.minLength) continue;
    out.priority = i;
    rule.find(text, out, run);
  }
}

function continuePemBlock(text: string, run: ScanRun): boolean {
  const out = run.matches;
  const endAt = text.indexOf("-----END");
  if (endAt !== -1) {
    const close = text.indexOf("-----", endAt + 8);
    out.add(0, close === -1 ? text.length : close + 5, placeholders.secret, "private_key");
    run.pemOpen = false;
    return false;
  }
  if (looksLikePemBody(text, 0, text.length)) {
    out.add(0, text.length, placeholders.secret, "private_key");
    return true;
  }
  run.pemOpen = false;
  return false;
}

/** The decoded views of `text` worth scanning: JSON-unescaped first, then percent-decoded. */
function viewsOf(text: string, features: number): TextView[] | undefined {
  const json = (features & BACKSLASH) !== 0 ? jsonEscapeView(text) : undefined;
  const percent = (features & PERCENT) !== 0 ? percentView(text) : undefined;
  if (json === undefined && percent === undefined) return undefined;
  const views: TextView[] = [];
  if (json !== undefined) views.push(json);
  if (percent !== undefined) views.push(percent);
  return views;
}

function isBlankCode(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * True for a JSON document (`{…}` or `[…]`). Its JSON-unescaped view sees everything the raw text
 * shows (escaped quotes and backslashes are kept), so the raw pass is skipped for it. Other text with
 * escapes gets both passes: there a backslash may be literal (`password=a\nb` in a log line).
 */
function isJsonDocument(text: string): boolean {
  let i = 0;
  while (i < text.length && isBlankCode(text.charCodeAt(i))) i++;
  let j = text.length - 1;
  while (j > i && isBlankCode(text.charCodeAt(j))) j--;
  const first = text.charCodeAt(i);
  const last = text.charCodeAt(j);
  return (first === 123 && last === 125) || (first === 91 && last === 93);
}

/**
 * `text` with everything the policy finds in it replaced. `flags` is a sum of `scanFlags`; `path` and
 * `target` locate the string for findings. Throws only on engine failure (fail closed).
 */
export function scanString(
  text: string,
  run: ScanRun,
  flags: number,
  path?: string,
  target?: FindingTarget,
): string {
  const out = run.matches;
  out.reset();
  let views: TextView[] | undefined;
  const mentions = (flags & scanFlags.mentions) !== 0;
  if ((flags & scanFlags.mentionsOnly) !== 0) {
    if (!mentions || run.learned.size === 0) return text;
    views = viewsOf(text, featuresOf(text));
  } else {
    const structured = (flags & scanFlags.structured) !== 0;
    let done = false;
    if (structured && run.pemOpen) done = continuePemBlock(text, run);
    if (!done && text.length >= 3) {
      const features = featuresOf(text);
      run.pemUnterminated = false;
      const json = (features & BACKSLASH) !== 0 ? jsonEscapeView(text) : undefined;
      const percent = (features & PERCENT) !== 0 ? percentView(text) : undefined;
      run.jsonDocument = !structured && isJsonDocument(text);
      if (json === undefined || !run.jsonDocument) runRules(text, features, run);
      if (json !== undefined || percent !== undefined) {
        views = [];
        if (json !== undefined) views.push(json);
        if (percent !== undefined) views.push(percent);
        for (const view of views) {
          out.view = view;
          runRules(view.text, featuresOf(view.text), run);
        }
        out.view = undefined;
      }
      run.jsonDocument = false;
      if (structured && run.pemUnterminated && run.enabled.has("private_key")) run.pemOpen = true;
    }
  }
  if (mentions && run.learned.size > 0) {
    out.priority = run.policy.rules.length;
    run.learned.findMentions(text, out);
    if (views !== undefined) {
      for (const view of views) {
        out.view = view;
        run.learned.findMentions(view.text, out);
      }
      out.view = undefined;
    }
  }
  if (out.size === 0) return text;
  return out.apply(text, run.tally, run.findings, path, target);
}

/** True when `text` may mention a learned namespace (cheap pre-check for the mentions pass). */
export function mayMention(text: string, run: ScanRun): boolean {
  if (run.learned.occursIn(text)) return true;
  return text.indexOf("\\") !== -1 || text.indexOf("%") !== -1;
}

/** Counts and reports one whole-value replacement made outside `scanString` (structure-aware rules). */
export function recordWhole(
  run: ScanRun,
  kind: RedactionKind,
  length: number,
  path: string | undefined,
): void {
  run.tally[kindIndex[kind]] = (run.tally[kindIndex[kind]] as number) + 1;
  run.findings?.push({ kind, path: path ?? "", target: "value", start: 0, end: length });
}
