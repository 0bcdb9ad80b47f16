/**
 * Tenant-defined patterns (`extraPatterns` in the YAML) and the guard against the one thing that
 * makes them dangerous: a regular expression with catastrophic backtracking would let a crafted
 * event stall a worker on every delivery. V8's regex engine backtracks, so the guard is two-fold:
 *
 * 1. Restricted syntax (static, exact): at most 512 characters; no backreferences; no quantifier with
 *    a maximum above 1 on a group that itself contains a quantifier or an alternation (`(a+)+`,
 *    `(a|ab)*`, `(?:x{1,9})+` are refused; write `[ab]+`, `(?:-[a-z0-9]+)?` or `[-a-z0-9]+` instead).
 *    This rules out exponential blow-up.
 * 2. A timed probe (dynamic): the compiled pattern is run, as the engine runs it (global scan), over
 *    adversarial 10 000-character inputs built from its own literal characters; it must finish within
 *    `probeBudgetMs` in a `vm` context whose timeout interrupts a runaway match. This catches
 *    polynomial blow-up (`\d+\d+x`, `[a-z]*[a-z]*!`, and even `[a-z0-9]+\.corp`, quadratic over a long
 *    run of letters) that the syntax rule lets through. Bounded repetitions (`[a-z0-9]{1,63}`) pass.
 *
 * Run time has no further guard: a pattern that passed both runs on every string of every event.
 *
 * Patterns that can match the empty string are refused too (found by the probe; at run time empty
 * matches are skipped anyway).
 */
import vm from "node:vm";
import { placeholders } from "./kinds.ts";

export interface ExtraPatternOptions {
  /** Shown in errors and dry-run reports: `[A-Za-z0-9_.-]{1,64}`. */
  readonly name: string;
  /** A JavaScript regular expression source, without slashes. */
  readonly pattern: string;
  /** What a match becomes; default `[REDACTED]`. 1–64 characters, no `"`, `\` or control characters. */
  readonly replacement?: string;
  /** Any of `i`, `m`, `s`, `u`. */
  readonly flags?: string;
}

export interface CompiledExtraPattern {
  readonly name: string;
  /** Global (and `d` when the pattern has a `(?<secret>…)` group: only that group is replaced). */
  readonly regex: RegExp;
  readonly replacement: string;
  readonly secretGroup: boolean;
}

export const maxExtraPatternLength = 512;
/** Wall-clock budget for probing one pattern: ~100× what a linear pattern needs on these inputs. */
export const probeBudgetMs = 250;
const probeInputLength = 10_000;

const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;
/** 1–64 characters, none of them `"`, `\` or a control character (the text layer splices it into JSON). */
function isValidReplacement(value: string): boolean {
  if (value.length < 1 || value.length > 64) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127 || c === 34 || c === 92) return false;
  }
  return true;
}

interface Frame {
  quantified: boolean;
  alternation: boolean;
  lookaround: boolean;
}

/** The syntax restriction (point 1 above): a problem, or `undefined` when the source is acceptable. */
export function checkPatternSyntax(source: string): string | undefined {
  if (source.length === 0) return "is empty";
  if (source.length > maxExtraPatternLength) return `is longer than ${maxExtraPatternLength} characters`;
  const stack: Frame[] = [{ quantified: false, alternation: false, lookaround: false }];
  let last: "none" | "atom" | Frame = "none";
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    const top = stack[stack.length - 1] as Frame;
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (/[1-9]/.test(next) || (next === "k" && source[i + 2] === "<")) return "uses a backreference";
      if ((next === "p" || next === "P" || next === "u" || next === "x") && source[i + 2] === "{") {
        const close = source.indexOf("}", i + 2);
        i = close === -1 ? source.length : close + 1;
      } else {
        i += 2;
      }
      last = "atom";
      continue;
    }
    if (c === "[") {
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
      if (j >= source.length) return "has an unterminated character class";
      i = j + 1;
      last = "atom";
      continue;
    }
    if (c === "(") {
      const lookaround = /^\(\?<?[=!]/.test(source.slice(i, i + 4));
      stack.push({ quantified: false, alternation: false, lookaround });
      if (source[i + 1] === "?") {
        const named = /^\(\?<([A-Za-z_$][\w$]*)>/.exec(source.slice(i, i + 40));
        i += named !== null ? named[0].length : lookaround ? (source[i + 2] === "<" ? 4 : 3) : 3;
      } else {
        i++;
      }
      last = "none";
      continue;
    }
    if (c === ")") {
      if (stack.length === 1) return "has an unbalanced parenthesis";
      const frame = stack.pop() as Frame;
      const parent = stack[stack.length - 1] as Frame;
      parent.quantified ||= frame.quantified;
      parent.alternation ||= frame.alternation;
      last = frame;
      i++;
      continue;
    }
    if (c === "|") {
      top.alternation = true;
      last = "none";
      i++;
      continue;
    }
    const quantifier = /^(?:[*+?]|\{(\d+)(,(\d*))?\})\??/.exec(source.slice(i, i + 24));
    if (quantifier !== null) {
      const q = quantifier[0];
      let max: number;
      if (q.startsWith("*") || q.startsWith("+")) max = Number.POSITIVE_INFINITY;
      else if (q.startsWith("?")) max = 1;
      else if (quantifier[2] === undefined) max = Number(quantifier[1]);
      else max = quantifier[3] === "" ? Number.POSITIVE_INFINITY : Number(quantifier[3]);
      if (last === "none") return "has a quantifier with nothing to repeat";
      if (last !== "atom") {
        if (last.lookaround) return "repeats a lookaround";
        if (max > 1 && (last.quantified || last.alternation)) {
          return "repeats a group that contains a quantifier or an alternation (catastrophic backtracking)";
        }
      }
      top.quantified = true;
      last = "none";
      i += q.length;
      continue;
    }
    last = "atom";
    i++;
  }
  if (stack.length !== 1) return "has an unbalanced parenthesis";
  return undefined;
}

function probeInputs(source: string): string[] {
  const literal = new Set<string>();
  for (const ch of source.replace(/\\./g, "")) if (/[\w\-.@:/=+ ]/.test(ch)) literal.add(ch);
  for (const ch of "a0A -_.") literal.add(ch);
  const inputs = [""];
  for (const ch of [...literal].slice(0, 24)) inputs.push(ch.repeat(probeInputLength));
  const mixed = [...literal].join("");
  inputs.push(
    mixed.repeat(Math.ceil(probeInputLength / Math.max(1, mixed.length))).slice(0, probeInputLength),
  );
  const prefix = /^[\w\-.@:/=]+/.exec(source)?.[0];
  if (prefix !== undefined) inputs.push(prefix.repeat(Math.ceil(probeInputLength / prefix.length)));
  inputs.push(`${"a".repeat(probeInputLength / 2)}!${"0".repeat(probeInputLength / 2)}`);
  return inputs;
}

const probeScript = new vm.Script(`
  let empty = false;
  for (const input of inputs) {
    regex.lastIndex = 0;
    for (let m = regex.exec(input); m !== null; m = regex.exec(input)) {
      if (m[0].length === 0) { empty = true; regex.lastIndex++; }
    }
  }
  empty;
`);

/** The timed probe (point 2 above): a problem, or `undefined`. */
export function probePattern(regex: RegExp, source: string): string | undefined {
  const context = vm.createContext({ regex, inputs: probeInputs(source) });
  try {
    const empty = probeScript.runInContext(context, { timeout: probeBudgetMs }) as boolean;
    if (empty) return "can match the empty string";
  } catch {
    return `took longer than ${probeBudgetMs} ms on adversarial input (catastrophic backtracking)`;
  } finally {
    regex.lastIndex = 0;
  }
  return undefined;
}

/**
 * Validates and compiles one extra pattern. Answers the compiled pattern, or the problems, each as
 * `extraPatterns[<index>].<field>: <what is wrong>`.
 */
export function compileExtraPattern(
  options: ExtraPatternOptions,
  index: number,
): { readonly pattern: CompiledExtraPattern } | { readonly problems: readonly string[] } {
  const at = `extraPatterns[${index}]`;
  const problems: string[] = [];
  if (typeof options.name !== "string" || !namePattern.test(options.name)) {
    problems.push(`${at}.name: must match ${namePattern.source}`);
  }
  const replacement = options.replacement ?? placeholders.custom;
  if (typeof replacement !== "string" || !isValidReplacement(replacement)) {
    problems.push(`${at}.replacement: 1 to 64 characters, without quotes, backslashes or control characters`);
  }
  const flags = options.flags ?? "";
  if (typeof flags !== "string" || !/^[imsu]*$/.test(flags) || new Set(flags).size !== flags.length) {
    problems.push(`${at}.flags: only i, m, s and u, each at most once`);
  }
  const source = options.pattern;
  if (typeof source !== "string") {
    problems.push(`${at}.pattern: must be a string`);
    return { problems };
  }
  const syntax = checkPatternSyntax(source);
  if (syntax !== undefined) {
    problems.push(`${at}.pattern: ${syntax}`);
    return { problems };
  }
  const secretGroup = /\(\?<secret>/.test(source);
  let regex: RegExp;
  try {
    regex = new RegExp(source, `g${secretGroup ? "d" : ""}${/^[imsu]*$/.test(flags) ? flags : ""}`);
  } catch (err) {
    problems.push(`${at}.pattern: invalid regular expression (${(err as Error).message})`);
    return { problems };
  }
  const probe = probePattern(regex, source);
  if (probe !== undefined) problems.push(`${at}.pattern: ${probe}`);
  if (problems.length > 0) return { problems };
  return { pattern: { name: options.name, regex, replacement, secretGroup } };
}
