/**
 * The false-positive corpus: ordinary operational text that both layers must leave exactly as it is
 * (output === input, no counts). Each entry says what it stands for.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { totalRedactions } from "./kinds.ts";
import { compileRedactionPolicy } from "./policy.ts";
import { redactText } from "./redact-text.ts";
import { redactValue } from "./redact-value.ts";

const policy = compileRedactionPolicy({
  namespaces: { mode: "hash", hashKey: Buffer.alloc(32, 1), allow: ["kube-system"] },
});

/** [what it is, the text]. */
export const falsePositiveCorpus: ReadonlyArray<readonly [string, string]> = [
  ["prose", "The deployment rolled out successfully after the readiness probe passed."],
  ["prose with punctuation", "Retrying in a moment; the upstream (billing) service is slow: please wait..."],
  ["prose mentioning secrets", "Cluster Secret Accessed via K8s API"],
  ["prose mentioning tokens", "Bearer tokens expire after one hour; rotate them regularly."],
  ["prose mentioning basic auth", "Basic authentication is disabled for this endpoint."],
  ["prose mentioning passwords", "The password policy requires twelve characters."],
  ["UUID", "4f1c6a9e-7e5b-4f11-9a8e-0c2b7d1e3a55"],
  ["UUID upper case", "AA345200-CF24-443A-8F11-DDB438FF8659"],
  ["git commit SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"],
  ["short commit SHA", "9fceb02"],
  ["container id", "9cc6d64c75d0"],
  ["ISO timestamp", "2026-11-28T19:10:44Z"],
  ["ISO timestamp with nanoseconds", "2026-10-01T11:59:58.123456789Z"],
  ["ISO timestamp with offset", "2026-10-01T11:59:58.123456789+0000"],
  ["time of day", "10:30:00.123"],
  ["time of day, short", "at 10:30 and again at 23:59:59"],
  ["RFC 1123 date", "Sat, 28 Nov 2026 19:10:44 GMT"],
  ["Go duration", "24h0m0s"],
  ["durations", "timeout=30s retry after 1m30s, took 250ms"],
  ["semver", "1.2.3"],
  ["semver with v", "v1.2.3"],
  ["semver pre-release and build", "v1.2.3-rc.1+build.5"],
  ["Debian package version", "0.9.1-2+deb10u1"],
  ["Kubernetes version", "v1.30.2-eks-1552ad0"],
  ["five-part version", "1.2.3.4.5"],
  ["Windows build number", "10.0.19041.1"],
  ["Kubernetes pod name", "nginx-7c9f8b6d5-abcde"],
  ["ReplicaSet name", "checkout-6d4cf56db6"],
  ["Trivy report name", "replicaset-checkout-6d4cf56db6-app"],
  ["CVE id", "CVE-2024-12345"],
  ["GHSA id", "GHSA-jfh8-c2jp-5v3q"],
  ["image digest", `sha256:${"d20aa6d1e4f5a9b8c7d6e5f4a3b2c1d0".repeat(2)}`],
  ["image reference with digest", `docker.io/library/alpine@sha256:${"ab".repeat(32)}`],
  ["image reference with tag", "docker.io/library/alpine:3.20"],
  ["registry with port", "registry.example.com:5000/team/app:1.4.2"],
  ["file path", "/etc/kubernetes/manifests/kube-apiserver.yaml"],
  ["service account token path", "/var/run/secrets/kubernetes.io/serviceaccount/token"],
  ["Windows path", "C:\\Program Files\\App\\config.ini"],
  ["label selector", "app=nginx,tier!=frontend,environment in (production, qa)"],
  ["label key", "app.kubernetes.io/name=checkout"],
  ["port", ":8080"],
  ["host and port", "localhost:8080"],
  ["MAC address", "00:1a:2b:3c:4d:5e"],
  ["MAC address with dashes", "00-1A-2B-3C-4D-5E"],
  ["hex hash", "d41d8cd98f00b204e9800998ecf8427e"],
  [
    "sha512 hex",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
  ],
  ["hex with prefix", "0xdeadbeef"],
  ["C++ scope", "std::vector<int> and foo::bar()"],
  ["IPv6-looking words", "dead::beef cafe::babe"],
  ["CVSS vector", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L"],
  ["URL without credentials", "https://avd.aquasec.com/nvd/cve-2019-20367"],
  ["URL with harmless query", "https://example.com/search?q=redaction&page=2&sort=asc"],
  ["URL with fragment", "https://github.com/falcosecurity/falcosidekick#readme"],
  ["https git remote", "git clone https://github.com/acme/app.git"],
  ["npm scope", "@types/node and @biomejs/biome"],
  ["Slack mention", "<@U024BE7LH> approved the request"],
  ["Slack channel id", "C0SECALERT"],
  ["Jira key", "SEC-42"],
  ["ServiceNow incident", "INC0010042"],
  ["Falco priority line", "Notice A shell was spawned in a container with an attached terminal"],
  [
    "Falco output fields",
    "evt_type=execve user=root user_uid=0 user_loginuid=-1 process=sh proc_exepath=/bin/busybox parent=runc",
  ],
  ["Falco exe flags", "EXE_WRITABLE|EXE_LOWER_LAYER"],
  ["kube-bench audit", "/bin/ps -ef | grep kube-apiserver | grep -v grep"],
  ["kube-bench remediation", "set --anonymous-auth=false and --profiling=false"],
  [
    "Kyverno message",
    "validation error: Privileged mode is disallowed. rule privileged-containers failed at path /spec/template/spec/containers/0/securityContext/privileged/",
  ],
  ["Checkov check id", "CKV_K8S_16"],
  ["Checkov resource", "Deployment.default.checkout"],
  ["secretName field", "secretName: db-creds"],
  ["secretKeyRef", "secretKeyRef: {name: db-creds, key: password}"],
  ["token count", "max_tokens: 4096 tokens_used=12"],
  ["key field", "key=payments-db-creds"],
  ["Sealed Secrets error", "no key could decrypt secret (DB_PASSWORD, DB_USERNAME)"],
  ["percent", "CPU at 85% and memory at 70%"],
  ["decimal numbers", "score 9.1, latency 3.14159 s"],
  ["Go MySQL DSN without password", "tcp(db:3306)/app"],
  [
    "YAML document",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n  replicas: 3\n",
  ],
  [
    "JSON document",
    '{"rule":"Terminal shell in container","priority":"Notice","tags":["T1059","container"]}',
  ],
  ["base64 that is not a secret", "eyJmb28iOiJiYXIifQ=="],
  ["email-like without TLD", "user@localhost"],
  ["unicode prose", "Überprüfung abgeschlossen ✓ — 日本語のテキスト"],
];

test(`the false-positive corpus (${falsePositiveCorpus.length} entries) is left untouched by both layers`, () => {
  const failures: string[] = [];
  for (const [what, text] of falsePositiveCorpus) {
    const asText = redactText(text, policy);
    const asValue = redactValue({ field: text, list: [text] }, policy);
    const value = asValue.value as { field: string; list: string[] };
    if (asText.text !== text || totalRedactions(asText.counts) !== 0) {
      failures.push(`${what}: redactText gave ${JSON.stringify(asText.text)}`);
    }
    if (value.field !== text || value.list[0] !== text || totalRedactions(asValue.counts) !== 0) {
      failures.push(`${what}: redactValue gave ${JSON.stringify(value.field)}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(falsePositiveCorpus.length >= 60);
});
