/**
 * Kubernetes namespace references in text: `namespace=foo`, `namespace: foo`, `"namespace":"foo"`,
 * `k8s.ns.name=foo`, `k8s_ns_name=foo`, `ns=foo` (Falco), `--namespace foo`, `-n foo` (in a
 * kubectl/helm/oc/... command line), `/namespaces/foo/` (API paths), `namespace/foo` (kubectl output)
 * and `system:serviceaccount:foo:name`. Each found name is learned, so that its bare mentions elsewhere
 * in the same event ("Critical Cluster secret accessed in prod ns") get the same replacement.
 */
import { BLANK, COLON, EQUALS, SLASH } from "../features.ts";
import { isNameChar } from "../learned-namespaces.ts";
import type { Matches } from "../matches.ts";
import { isHashedNamespace } from "../namespace-labeler.ts";
import type { RuleEnv, StringRule } from "../rule.ts";
import { Needle } from "../search.ts";

const label = "([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)";
const pairPattern = new RegExp(
  `(?:namespace|k8s[._]ns[._]name|(?<![A-Za-z0-9_.-])ns)(\\\\?["'])?[ \\t]*[:=][ \\t]*(\\\\?["'])?${label}`,
  "gi",
);
const longFlag = new RegExp(`(?<![A-Za-z0-9_-])--namespace(?:[ \\t]+|=)${label}`, "g");
const shortFlag = new RegExp(`(?<![A-Za-z0-9_-])-n[ \\t]+${label}`, "g");
const pathPattern = new RegExp(`(?<![A-Za-z0-9_])namespaces?/${label}`, "g");
const serviceAccount = new RegExp(`system:serviceaccounts?:${label}`, "g");
const kubeCli = /\b(?:kubectl|helm|oc|istioctl|linkerd|flux|argocd|velero|stern|kubens|k9s|kustomize|tkn)\b/;
const namespaceWord = new Needle("namespace");
const serviceAccountWord = new Needle("system:serviceaccount");
const notNames: ReadonlySet<string> = new Set(["null", "true", "false", "none"]);

function report(text: string, start: number, name: string, out: Matches, env: RuleEnv): void {
  let end = start + name.length;
  // `namespace=foo_bar` names `foo_bar`: take the whole word, not just its DNS-label prefix.
  while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
  const full = end === start + name.length ? name : text.slice(start, end);
  if (notNames.has(full.toLowerCase()) || isHashedNamespace(full)) return;
  const replacement = env.namespaces.replacementFor(full);
  if (replacement === undefined) return;
  env.learnNamespace(full, replacement);
  out.add(start, end, replacement, "namespace");
}

function addAll(text: string, pattern: RegExp, out: Matches, env: RuleEnv): void {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const name = m[m.length - 1] as string;
    report(text, m.index + m[0].length - name.length, name, out, env);
  }
}

/** Namespace references (see the module comment): `[REDACTED_NAMESPACE]` or `ns-<hash>`, allowlist passes. */
export const namespaceRule: StringRule = {
  name: "namespace",
  kinds: ["namespace"],
  needs: 0,
  needsAny: EQUALS | COLON | SLASH | BLANK,
  minLength: 4,
  find(text, out, env) {
    // Every alternative of `pairPattern` has an "s" (namespace, k8s…, ns): a text without one skips it.
    if (text.indexOf("s") !== -1 || text.indexOf("S") !== -1) {
      pairPattern.lastIndex = 0;
      for (let m = pairPattern.exec(text); m !== null; m = pairPattern.exec(text)) {
        // `"namespace": null` or `"namespace": 42` in JSON: not a name.
        if (m[1] !== undefined && m[2] === undefined) continue;
        const name = m[3] as string;
        report(text, m.index + m[0].length - name.length, name, out, env);
      }
    }
    // One search for "namespace" decides both `--namespace x` and `namespace(s)/x` (a search is as
    // slow as its first character is common, so one instead of three matters on a long body).
    let longFlagSeen = false;
    let pathSeen = false;
    for (let i = namespaceWord.indexIn(text, 0); i !== -1 && !(longFlagSeen && pathSeen); ) {
      if (i >= 2 && text.charCodeAt(i - 1) === 45 && text.charCodeAt(i - 2) === 45) longFlagSeen = true;
      const after = text.charCodeAt(i + 9);
      if (after === 47 || (after === 115 && text.charCodeAt(i + 10) === 47)) pathSeen = true;
      i = namespaceWord.indexIn(text, i + 9);
    }
    if (longFlagSeen) addAll(text, longFlag, out, env);
    if (pathSeen) addAll(text, pathPattern, out, env);
    if (text.indexOf("-n") !== -1 && (text.indexOf("-n ") !== -1 || text.indexOf("-n\t") !== -1)) {
      if (kubeCli.test(text)) addAll(text, shortFlag, out, env);
    }
    if (serviceAccountWord.indexIn(text, 0) !== -1) addAll(text, serviceAccount, out, env);
  },
};
