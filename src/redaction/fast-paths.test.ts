/**
 * The speed-ups of the engine must find exactly what the straightforward versions find. Each
 * property runs a rule (or helper) and a reference oracle (the previous, simple implementation: a
 * global pattern tried at every position, a plain `indexOf`) on random text built from the characters
 * that matter to it, and compares every reported interval and replacement.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { newTally } from "./kinds.ts";
import { isNameChar, LearnedNamespaces } from "./learned-namespaces.ts";
import { Matches, type RedactionFinding } from "./matches.ts";
import { compileRedactionPolicy } from "./policy.ts";
import type { StringRule } from "./rule.ts";
import { commandLineRule, userInfoRule } from "./rules/credentials.ts";
import { namespaceRule } from "./rules/namespaces.ts";
import { createScanRun } from "./scan-string.ts";
import { anchorOf, Needle } from "./search.ts";

const runs = Number(process.env.REDACTION_PROPERTY_RUNS ?? 10_000);
const policy = compileRedactionPolicy({ namespaces: { mode: "redact", allow: ["kube-system"] } });

/** Text from `pieces` (words and single characters). */
function textOf(pieces: readonly string[], maxLength = 40): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...pieces), { maxLength }).map((parts) => parts.join(""));
}

/** What a finder does to `text`: the redacted text and each (merged) interval with its kind. */
function outcome(find: (text: string, out: Matches) => void, text: string): string[] {
  const out = new Matches();
  find(text, out);
  const findings: RedactionFinding[] = [];
  const redacted = out.size === 0 ? text : out.apply(text, newTally(), findings);
  return [redacted, ...findings.map((f) => `${f.start}-${f.end}:${f.kind}`)];
}

function ruleFinder(rule: StringRule): (text: string, out: Matches) => void {
  return (text, out) => {
    const run = createScanRun(policy, undefined, undefined);
    rule.find(text, out, run);
  };
}

/** `user:password@host`, as the rule was written before (one global pattern). */
function userInfoOracle(text: string, out: Matches): void {
  const userInfo = /(?<![A-Za-z0-9._%+\-/])[A-Za-z0-9._%+-]{1,64}:([^\s:@/"'<>\\]{1,128})@(?=[A-Za-z0-9[(])/g;
  for (let m = userInfo.exec(text); m !== null; m = userInfo.exec(text)) {
    const value = m[1] as string;
    const end = m.index + m[0].length - 1;
    if (!/^\[REDACTED(?:_[A-Z0-9_]{1,40})?\]$/.test(value))
      out.add(end - value.length, end, "[REDACTED_SECRET]", "secret");
  }
}

/** `n` characters drawn from `alphabet`. */
function run(alphabet: string, min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((c) => c.join(""));
}

/** Constructs (whole shapes with random parts and lengths around the limits) mixed with noise. */
function mixed(constructs: fc.Arbitrary<string>, noise: readonly string[]): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof(constructs, fc.constantFrom(...noise)), { maxLength: 8 })
    .map((parts) => parts.join(""));
}

const userChars = "aZ9._%+-";
const passwordChars = "aZ9!$.-_é";
const userInfoShape = fc
  .tuple(
    fc.constantFrom("", " ", "/", "a", "=", '"', "@"),
    fc.integer({ min: 0, max: 68 }).chain((n) => run(userChars, n, n)),
    fc.constantFrom(":", "::", ""),
    fc.integer({ min: 0, max: 132 }).chain((n) => run(passwordChars, n, n)),
    fc.constantFrom("", " ", "\u00a0", "\u2028", "/", '"', "<", "\\", "[REDACTED_SECRET]"),
    fc.constantFrom("@", ""),
    fc.constantFrom("host", "[::1]", "(tcp", "-x", "", "@h"),
  )
  .map((parts) => parts.join(""));

test("user-info: the @-anchored scan finds what the global pattern finds", () => {
  fc.assert(
    fc.property(mixed(userInfoShape, [" ", ":", "@", "a", "\t", "/"]), (text) => {
      assert.deepEqual(outcome(ruleFinder(userInfoRule), text), outcome(userInfoOracle, text));
    }),
    { numRuns: runs },
  );
});

/** Command-line secrets, as the rule was written before (global patterns behind a lookbehind). */
function commandLineOracle(text: string, out: Matches): void {
  const flag =
    /(?<![A-Za-z0-9_-])--?(?:[A-Za-z0-9]+-){0,4}(?:password|passwd|pass|token|secret|api-?key|access-key|secret-key|client-secret|auth-token)[ \t]+(?!-)([^\s"']+)/gi;
  const curl = /(?<![A-Za-z0-9_-])(?:-u|--user|--proxy-user|-U)[ \t]+[^\s:"']*:([^\s"']+)/g;
  const mysqlPassword = /(?<![A-Za-z0-9_-])-p([^\s"'-][^\s"']*)/g;
  const placeholder = /^\[REDACTED(?:_[A-Z0-9_]{1,40})?\]$/;
  for (const pattern of [flag, curl]) {
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const value = m[1] as string;
      const end = m.index + m[0].length;
      if (!placeholder.test(value)) out.add(end - value.length, end, "[REDACTED_SECRET]", "secret");
    }
  }
  if (/\b(?:mysql|mysqldump|mysqladmin|mariadb)\b/.test(text)) {
    for (let m = mysqlPassword.exec(text); m !== null; m = mysqlPassword.exec(text)) {
      const value = m[1] as string;
      out.add(m.index + 2, m.index + 2 + value.length, "[REDACTED_SECRET]", "secret");
    }
  }
}

const optionShape = fc
  .tuple(
    fc.constantFrom("", " ", "a", "-", "_", '"', "=", "\t"),
    fc.constantFrom("-", "--", "---"),
    fc.array(fc.constantFrom("db-", "my-", "x1-", "a-"), { maxLength: 5 }).map((p) => p.join("")),
    fc.constantFrom(
      ...["password", "PassWD", "pass", "token", "secret", "api-key", "apikey", "access-key", "secret-key"],
      ...["client-secret", "auth-token", "u", "U", "user", "proxy-user", "p", "name"],
    ),
    fc.constantFrom(" ", "\t", "  ", "", "="),
    fc.constantFrom(
      "s3cr3t",
      "-x",
      "me:pw",
      ":pw",
      "a b",
      '"q"',
      "[REDACTED_SECRET]",
      "u:[REDACTED_SECRET]",
      "",
    ),
  )
  .map((parts) => parts.join(""));

test("command-line: option starts plus sticky patterns find what the global patterns find", () => {
  fc.assert(
    fc.property(mixed(optionShape, [" ", "mysql", "mariadb ", "-p", "-pX", "a", "\n"]), (text) => {
      assert.deepEqual(outcome(ruleFinder(commandLineRule), text), outcome(commandLineOracle, text));
    }),
    { numRuns: runs },
  );
});

/** Namespace references, as the rule was written before (each pattern behind its own simple check). */
function namespaceOracle(text: string, out: Matches): void {
  const label = "([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)";
  const pair = new RegExp(
    `(?:namespace|k8s[._]ns[._]name|(?<![A-Za-z0-9_.-])ns)(\\\\?["'])?[ \\t]*[:=][ \\t]*(\\\\?["'])?${label}`,
    "gi",
  );
  const longFlag = new RegExp(`(?<![A-Za-z0-9_-])--namespace(?:[ \\t]+|=)${label}`, "g");
  const shortFlag = new RegExp(`(?<![A-Za-z0-9_-])-n[ \\t]+${label}`, "g");
  const path = new RegExp(`(?<![A-Za-z0-9_])namespaces?/${label}`, "g");
  const serviceAccount = new RegExp(`system:serviceaccounts?:${label}`, "g");
  const kubeCli =
    /\b(?:kubectl|helm|oc|istioctl|linkerd|flux|argocd|velero|stern|kubens|k9s|kustomize|tkn)\b/;
  const run = createScanRun(policy, undefined, undefined);
  const report = (start: number, name: string): void => {
    let end = start + name.length;
    while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
    const full = text.slice(start, end);
    if (["null", "true", "false", "none"].includes(full.toLowerCase()) || /^ns-[0-9a-f]{10}$/.test(full))
      return;
    const replacement = run.namespaces.replacementFor(full);
    if (replacement !== undefined) out.add(start, end, replacement, "namespace");
  };
  const all = (pattern: RegExp): void => {
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const name = m[m.length - 1] as string;
      report(m.index + m[0].length - name.length, name);
    }
  };
  for (let m = pair.exec(text); m !== null; m = pair.exec(text)) {
    if (m[1] !== undefined && m[2] === undefined) continue;
    const name = m[3] as string;
    report(m.index + m[0].length - name.length, name);
  }
  if (text.includes("-")) {
    all(longFlag);
    if ((text.includes("-n ") || text.includes("-n\t")) && kubeCli.test(text)) all(shortFlag);
  }
  if (text.includes("/")) all(path);
  if (text.includes("system:serviceaccount")) all(serviceAccount);
}

const namespaceShape = fc
  .tuple(
    fc.constantFrom("", " ", "a", "-", "_", ".", '"', "/", "x--"),
    fc.constantFrom(
      ...["--namespace", "--Namespace", "namespace", "Namespace", "NAMESPACE", "namespaces", "ns", "NS"],
      ...["k8s.ns.name", "k8s_ns_name", "-n", "system:serviceaccount", "system:serviceaccounts"],
    ),
    fc.constantFrom("", '"', '\\"', "'"),
    fc.constantFrom("", " ", "\t", "  "),
    fc.constantFrom("=", ":", "/", "s/", "", " "),
    fc.constantFrom("", " ", '"', "'"),
    fc.constantFrom("prod", "kube-system", "null", "ns-0123456789", "a_b", "-x", ""),
  )
  .map((parts) => parts.join(""));

test("namespace: the combined pre-checks find what the separate patterns find", () => {
  fc.assert(
    fc.property(mixed(namespaceShape, [" ", "kubectl ", "helm", "/", "-", "namespace", "s"]), (text) => {
      assert.deepEqual(outcome(ruleFinder(namespaceRule), text), outcome(namespaceOracle, text));
    }),
    { numRuns: runs },
  );
});

test("learned namespaces: searching from the rarest character finds every occurrence indexOf finds", () => {
  const nameArb = fc
    .array(fc.constantFrom(..."abeyz09-"), { minLength: 3, maxLength: 8 })
    .map((c) => c.join(""));
  fc.assert(
    fc.property(nameArb, textOf([..."abeyz09- .x", "prod"], 60), (name, text) => {
      const learned = new LearnedNamespaces();
      learned.add(name, "[REDACTED_NAMESPACE]");
      assert.equal(learned.occursIn(text), text.includes(name));
      const naive = (t: string, out: Matches): void => {
        for (let i = t.indexOf(name); i !== -1; i = t.indexOf(name, i + name.length)) {
          const before = i > 0 ? t.charCodeAt(i - 1) : 32;
          const after = i + name.length < t.length ? t.charCodeAt(i + name.length) : 32;
          if (!isNameChar(before) && !isNameChar(after))
            out.add(i, i + name.length, "[REDACTED_NAMESPACE]", "namespace");
        }
      };
      assert.deepEqual(
        outcome((t, out) => learned.findMentions(t, out), text),
        outcome(naive, text),
      );
    }),
    { numRuns: runs },
  );
});

test("the anchor of a name is its least common character", () => {
  assert.equal(anchorOf("payments"), 2); // y
  assert.equal(anchorOf("prod"), 0); // p is rarer than r, o and d
  assert.equal(anchorOf("kube-system"), 0); // k
});

test("a Needle finds what indexOf finds, from any position", () => {
  const piece = fc.constantFrom(...'abkyz09-:"_ ', "system:", "serviceaccount", "namespace");
  fc.assert(
    fc.property(
      fc.array(piece, { minLength: 1, maxLength: 4 }).map((p) => p.join("")),
      fc.array(piece, { maxLength: 30 }).map((p) => p.join("")),
      fc.nat(40),
      (needle, haystack, from) => {
        assert.equal(new Needle(needle).indexIn(haystack, from), haystack.indexOf(needle, from));
      },
    ),
    { numRuns: runs },
  );
});
