/**
 * Per-rule tables: what each rule redacts (and into what), and the near misses it must leave alone.
 * Every row runs through both layers (`redactText` on the string, `redactValue` on it as a value).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RedactionCounts } from "./kinds.ts";
import { compileRedactionPolicy } from "./policy.ts";
import { redactText } from "./redact-text.ts";
import { redactValue } from "./redact-value.ts";

const policy = compileRedactionPolicy({
  namespaces: { mode: "redact", allow: ["kube-system", "kube-*"] },
  extraPatterns: [
    { name: "acme", pattern: "ACME-[A-Z0-9]{8}" },
    { name: "ticket", pattern: "tkt_(?<secret>[a-f0-9]{8})", replacement: "[REDACTED_TICKET]" },
  ],
});

type Row = readonly [input: string, expected: string, counts?: RedactionCounts];

function table(name: string, rows: readonly Row[]): void {
  describe(name, () => {
    for (const [input, expected, counts] of rows) {
      test(JSON.stringify(input).slice(0, 100), () => {
        const text = redactText(input, policy);
        assert.equal(text.text, expected, "redactText");
        if (counts !== undefined) assert.deepEqual(text.counts, counts, "redactText counts");
        assert.equal(redactValue(input, policy).value, expected, "redactValue");
      });
    }
  });
}

const ghp = `ghp_${"a1B2c3D4e5".repeat(3)}abcdef`;
const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

table("email", [
  ["mail alice@example.com now", "mail [REDACTED_EMAIL] now", { email: 1 }],
  ["<bob.smith+alerts@mail.example.co.uk>", "<[REDACTED_EMAIL]>"],
  ["end of sentence: ops@example.org.", "end of sentence: [REDACTED_EMAIL]."],
  ["two a@b.io,c@d.io", "two [REDACTED_EMAIL],[REDACTED_EMAIL]", { email: 2 }],
  ["idn user@example.xn--p1ai", "idn [REDACTED_EMAIL]"],
  ["image alpine@sha256:abcd", "image alpine@sha256:abcd"],
  ["scope @types/node", "scope @types/node"],
  ["user@localhost", "user@localhost"],
  ["a@b", "a@b"],
  ["double dot x@a..com", "double dot x@a..com"],
]);

table("api keys and secrets in pairs", [
  ["password=hunter2", "password=[REDACTED_SECRET]", { secret: 1 }],
  ["DB_PASSWORD: s3cr3t!", "DB_PASSWORD: [REDACTED_SECRET]"],
  ['{"client_secret":"abc\\"def","x":1}', '{"client_secret":"[REDACTED_SECRET]","x":1}'],
  ['{"password": 123456}', '{"password": "[REDACTED_SECRET]"}'],
  ['{"password": null, "token": true}', '{"password": null, "token": true}'],
  ["api_key=AbC123xyz&page=2", "api_key=[REDACTED_API_KEY]&page=2", { api_key: 1 }],
  ["X-Api-Key: 0123456789abcdef", "X-Api-Key: [REDACTED_API_KEY]"],
  [
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "aws_secret_access_key = [REDACTED_SECRET]",
    { aws_key: 1 },
  ],
  ["token='abc def'", "token='[REDACTED_SECRET]'"],
  ["SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5", "SLACK_SIGNING_SECRET=[REDACTED_SECRET]"],
  ["password2=x9", "password2=[REDACTED_SECRET]"],
  [
    "key: |\n  abc\npassword: |\n  line one\n  line two\nnext: 1",
    "key: |\n  abc\npassword: |\n  [REDACTED_SECRET]\nnext: 1",
  ],
  ["  - password: two words here\n  - name: x", "  - password: [REDACTED_SECRET]\n  - name: x"],
  ["Authorization: Token abc123def", "Authorization: Token [REDACTED_TOKEN]", { token: 1 }],
  ["Cookie: session=abc; theme=dark", "Cookie: [REDACTED_SECRET]"],
  ["password=[REDACTED_SECRET]", "password=[REDACTED_SECRET]", {}],
  ["password=", "password="],
  ["secretName: db-creds", "secretName: db-creds"],
  [
    "tokens_used=12 tokenizer: bpe passwordPolicy: strict",
    "tokens_used=12 tokenizer: bpe passwordPolicy: strict",
  ],
  [
    '{"env":[{"name":"DB_PASSWORD","value":"hunter2"},{"name":"LOG","value":"info"}]}',
    '{"env":[{"name":"DB_PASSWORD","value":"[REDACTED_SECRET]"},{"name":"LOG","value":"info"}]}',
  ],
  [
    "env:\n- name: API_TOKEN\n  value: abc123\n- name: MODE\n  value: fast",
    "env:\n- name: API_TOKEN\n  value: [REDACTED_SECRET]\n- name: MODE\n  value: fast",
  ],
]);

table("connection strings and command lines", [
  [
    "Server=db;Database=app;User Id=sa;Password=my pass word;",
    "Server=db;Database=app;User Id=sa;Password=[REDACTED_SECRET];",
  ],
  ["Data Source=x;Pwd=abc;", "Data Source=x;Pwd=[REDACTED_SECRET];"],
  ["mysql -u root --password hunter2 -h db", "mysql -u root --password [REDACTED_SECRET] -h db"],
  ["app --db-token abc123 --verbose", "app --db-token [REDACTED_SECRET] --verbose"],
  ["mysql -uroot -phunter2 app", "mysql -uroot -p[REDACTED_SECRET] app"],
  ["curl -u admin:s3cret https://api.example.com", "curl -u admin:[REDACTED_SECRET] https://api.example.com"],
  ["user:pa55@tcp(db:3306)/app", "user:[REDACTED_SECRET]@tcp(db:3306)/app"],
  ["grep -p pattern file", "grep -p pattern file"],
  ["ls --password-file /etc/pw", "ls --password-file /etc/pw"],
]);

table("authorization schemes", [
  ["Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [REDACTED_TOKEN]", { token: 1 }],
  ["curl -H 'authorization: bearer 0123456789abcdef'", "curl -H 'authorization: bearer [REDACTED_TOKEN]'"],
  ["Basic dXNlcjpwYXNz", "Basic [REDACTED_TOKEN]"],
  ["BEARER zzzzzzzzzzzzzzzzzzzz==", "BEARER [REDACTED_TOKEN]"],
  ["Bearer tokens expire; Basic realm requires login", "Bearer tokens expire; Basic realm requires login"],
]);

table("slack tokens", [
  ["xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "[REDACTED_SLACK_TOKEN]", { slack_token: 1 }],
  ["token xoxp-1-2-3-0123456789abcdef here", "token [REDACTED_SLACK_TOKEN] here"],
  ["xapp-1-A0123456789-1234567890123-abcdef0123456789", "[REDACTED_SLACK_TOKEN]"],
  ["xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTA", "xoxe.[REDACTED_SLACK_TOKEN]"],
  ["xoxb-short", "xoxb-short"],
  ["xoxz-1234567890-abc", "xoxz-1234567890-abc"],
]);

table("github tokens", [
  // The whole URL goes (its user name is a token); the more specific kind names the placeholder.
  [`git push https://${ghp}@github.com/acme/app`, "git push [REDACTED_GITHUB_TOKEN]"],
  [`GITHUB ${ghp}.`, "GITHUB [REDACTED_GITHUB_TOKEN].", { github_token: 1 }],
  [`github_pat_11ABCDEFG0123456789_${"x".repeat(59)}`, "[REDACTED_GITHUB_TOKEN]"],
  ["ghs_0123456789abcdefghijABCDEFGHIJ0123", "[REDACTED_GITHUB_TOKEN]"],
  ["ghp_short", "ghp_short"],
  ["ghx_0123456789abcdefghijABCDEFGHIJ0123", "ghx_0123456789abcdefghijABCDEFGHIJ0123"],
]);

table("gitlab tokens", [
  ["glpat-abcdefghij0123456789", "[REDACTED_GITLAB_TOKEN]", { gitlab_token: 1 }],
  ["deploy gldt-ABCDEFGHIJ_klmnopqrst-01 ok", "deploy [REDACTED_GITLAB_TOKEN] ok"],
  [
    "glrt-0123456789abcdefghij glptt-0123456789abcdefghij glsoat-0123456789abcdefghij",
    "[REDACTED_GITLAB_TOKEN] [REDACTED_GITLAB_TOKEN] [REDACTED_GITLAB_TOKEN]",
  ],
  ["GR1348941abcdefghij0123456789", "[REDACTED_GITLAB_TOKEN]"],
  ["glpat-short", "glpat-short"],
  ["glibc-2.28-10+deb10u2", "glibc-2.28-10+deb10u2"],
]);

table("URLs with credentials", [
  ["postgres://app:s3cret@db.internal:5432/app", "[REDACTED_URL]", { url: 1 }],
  ["see (https://u:p@example.com/x).", "see ([REDACTED_URL])."],
  ["mongodb+srv://admin:pw@cluster0.example.net/db", "[REDACTED_URL]"],
  ["redis://:hunter2@cache:6379/0", "[REDACTED_URL]"],
  ["https://x.example/cb?code=abc&state=1", "[REDACTED_URL]"],
  ["https://bucket.s3.amazonaws.com/f?X-Amz-Algorithm=AWS4&X-Amz-Signature=abcdef0123", "[REDACTED_URL]"],
  ["https://x.example/#access_token=abc&type=bearer", "[REDACTED_URL]"],
  ["https://hooks.slack.com/services/T000/B000/XXXXXXXX", "[REDACTED_URL]"],
  ["https://discord.com/api/webhooks/123/abc", "[REDACTED_URL]"],
  ["jdbc:postgresql://db/app?user=x&password=y", "jdbc:[REDACTED_URL]"],
  ["https://example.com/search?q=token&page=2", "https://example.com/search?q=token&page=2"],
  ["https://example.com/?token=", "https://example.com/?token="],
  ["ssh://git@github.com/acme/app.git", "ssh://[REDACTED_EMAIL]/acme/app.git"],
]);

table("IP addresses", [
  ["from 10.0.3.17:8080", "from [REDACTED_IP]:8080", { ip: 1 }],
  ["cidr 192.168.0.0/16", "cidr [REDACTED_IP]/16"],
  ["1.2.3.4", "[REDACTED_IP]"],
  ["leading zeros 010.001.002.003", "leading zeros [REDACTED_IP]"],
  ["host ip-10-0-3-17.ec2.internal", "host [REDACTED_IP].ec2.internal"],
  ["[2001:db8::1]:443", "[[REDACTED_IP]]:443"],
  ["2001:0DB8:0000:0000:0008:0800:200C:417A", "[REDACTED_IP]"],
  ["link fe80::1%eth0 up", "link [REDACTED_IP] up"],
  ["mapped ::ffff:192.0.2.1", "mapped [REDACTED_IP]"],
  ["loopback ::1", "loopback [REDACTED_IP]"],
  ["ipv6:2001:db8::7", "ipv6:[REDACTED_IP]"],
  ["trailing 2001:db8::.", "trailing [REDACTED_IP]."],
  ["256.1.1.1 and 1.2.3 and v1.2.3.4", "256.1.1.1 and 1.2.3 and v1.2.3.4"],
  ["1.2.3.4.5", "1.2.3.4.5"],
  ["ip-300-1-1-1", "ip-300-1-1-1"],
  ["10:30:00 and 00:1a:2b:3c:4d:5e", "10:30:00 and 00:1a:2b:3c:4d:5e"],
]);

table("namespaces", [
  ["namespace=payments", "namespace=[REDACTED_NAMESPACE]", { namespace: 1 }],
  ['{"namespace":"payments","x":"payments-db"}', '{"namespace":"[REDACTED_NAMESPACE]","x":"payments-db"}'],
  [
    "k8s.ns.name=sandbox k8s_ns_name=sandbox",
    "k8s.ns.name=[REDACTED_NAMESPACE] k8s_ns_name=[REDACTED_NAMESPACE]",
  ],
  ["kubectl -n team-a get pods", "kubectl -n [REDACTED_NAMESPACE] get pods"],
  ["helm install x --namespace=team-b", "helm install x --namespace=[REDACTED_NAMESPACE]"],
  ["uri=/api/v1/namespaces/prod/secrets", "uri=/api/v1/namespaces/[REDACTED_NAMESPACE]/secrets"],
  [
    "user=system:serviceaccount:insecure:react2shell",
    "user=system:serviceaccount:[REDACTED_NAMESPACE]:react2shell",
  ],
  ["namespace/ops created", "namespace/[REDACTED_NAMESPACE] created"],
  [
    "accessed in prod ns (ns=prod)",
    "accessed in [REDACTED_NAMESPACE] ns (ns=[REDACTED_NAMESPACE])",
    { namespace: 2 },
  ],
  [
    "namespace: kube-system and namespace: kube-public",
    "namespace: kube-system and namespace: kube-public",
    {},
  ],
  ['{"namespace": null}', '{"namespace": null}'],
  ["echo -n hello", "echo -n hello"],
  ["namespaceSelector: {}", "namespaceSelector: {}"],
]);

table("AWS keys", [
  ["AKIAIOSFODNN7EXAMPLE", "[REDACTED_API_KEY]", { aws_key: 1 }],
  ["id=ASIAY34FZKBOKMUTVV7A,", "id=[REDACTED_API_KEY],"],
  ["AKIAIOSFODNN7EXAMPLEX", "AKIAIOSFODNN7EXAMPLEX"],
  ["AKIA-IOSFODNN7EXAMPL", "AKIA-IOSFODNN7EXAMPL"],
]);

table("JWTs", [
  [jwt, "[REDACTED_TOKEN]", { jwt: 1 }],
  [`Bearer ${jwt}`, "Bearer [REDACTED_TOKEN]"],
  ["unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "unsigned [REDACTED_TOKEN]."],
  ["eyJmb28iOiJiYXIifQ==", "eyJmb28iOiJiYXIifQ=="],
]);

table("PEM private keys", [
  [
    "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAbC=\n-----END RSA PRIVATE KEY-----\nb",
    "a\n[REDACTED_SECRET]\nb",
    { private_key: 1 },
  ],
  [
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    "[REDACTED_SECRET]",
  ],
  ["-----BEGIN PRIVATE KEY-----\ntruncated MIIE", "[REDACTED_SECRET]"],
  ["-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOY\n-----END PGP PRIVATE KEY BLOCK-----", "[REDACTED_SECRET]"],
  [
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
  ],
]);

table("Stripe keys", [
  ["sk_live_0123456789abcdefABCDEF", "[REDACTED_API_KEY]", { stripe_key: 1 }],
  ["rk_test_0123456789abcdef", "[REDACTED_API_KEY]"],
  ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "[REDACTED_API_KEY]"],
  ["pk_live_0123456789abcdef", "pk_live_0123456789abcdef"],
  ["task_test_0123456789abcdef", "task_test_0123456789abcdef"],
]);

table("Kubernetes Secrets in text", [
  [
    '{"kind":"Secret","data":{"password":"c2VjcmV0","tls.key":"LS0t"}}',
    '{"kind":"Secret","data":{"password":"[REDACTED_SECRET]","tls.key":"[REDACTED_SECRET]"}}',
    { kubernetes_secret: 2 },
  ],
  [
    'apiVersion: v1\nkind: Secret\ndata:\n  a.txt: YWJj\n  b: "ZGVm"\nstringData:\n  c: plain text\ntype: Opaque\n',
    'apiVersion: v1\nkind: Secret\ndata:\n  a.txt: [REDACTED_SECRET]\n  b: "[REDACTED_SECRET]"\nstringData:\n  c: [REDACTED_SECRET]\ntype: Opaque\n',
  ],
  ["kind: Secret\ndata: {a: YWJj, b: ZGVm}\n", "kind: Secret\ndata: {[REDACTED_SECRET]}\n"],
  ['{"kind":"ConfigMap","data":{"mode":"fast"}}', '{"kind":"ConfigMap","data":{"mode":"fast"}}'],
  [
    '{"kind":"SealedSecret","spec":{"encryptedData":{"a":"AgB"}}}',
    '{"kind":"SealedSecret","spec":{"encryptedData":{"a":"AgB"}}}',
  ],
]);

table("extra patterns", [
  ["license ACME-AB12CD34 ok", "license [REDACTED] ok", { custom: 1 }],
  ["ticket tkt_0123abcd", "ticket tkt_[REDACTED_TICKET]", { custom: 1 }],
  ["ACME-short", "ACME-short"],
]);
