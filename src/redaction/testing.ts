/**
 * Test support for the redaction tests (not used by production code): realistic generators of every
 * kind of secret with its usual context, carrier text and JSON to hide them in, and the leak check.
 *
 * Leak (the issue's "not whole, and not as a recognisable prefix + suffix"): a secret's random part
 * ("core") leaks when the output contains it whole (cores shorter than 8 characters) or any 8-character
 * window of it (longer cores) that the carrier alone does not contain. Placeholders are fixed strings,
 * so they cannot carry secret material.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { placeholders, type RedactionKind } from "./kinds.ts";
import type { CompiledRedactionPolicy } from "./policy.ts";
import { redactText } from "./redact-text.ts";
import { redactValue } from "./redact-value.ts";

/** A generated secret in its natural contexts. */
export interface SecretSample {
  readonly kind: RedactionKind;
  /** Random material that must not survive redaction. */
  readonly cores: readonly string[];
  /** The secret as written in free text, with its context (`password=…`, `Bearer …`, a PEM block). */
  readonly text: string;
  /** A structured form to place in a JSON tree (an object with a secret field, a Secret object, …). */
  readonly value: unknown;
  /** A YAML fragment (whole lines) holding the secret. */
  readonly yaml: string;
  /** A URL holding the secret, when that is a natural place for it; its cores are URL-safe. */
  readonly url?: string;
}

const lower = "abcdefghijklmnopqrstuvwxyz";
const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const digits = "0123456789";
const alnum = lower + upper + digits;
const hex = "0123456789abcdef";
const base64url = `${alnum}-_`;

/** Strings over `alphabet`, `min`..`max` long. */
export function chars(alphabet: string, min: number, max: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
}

/** Like `chars`, with at least one digit (so a core cannot be an English word of the carrier). */
function charsWithDigit(alphabet: string, min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(chars(alphabet, Math.max(0, min - 1), max - 1), fc.constantFrom(...digits), fc.nat())
    .map(([s, d, at]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + d + s.slice(i);
    });
}

function base64Of(min: number, max: number): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString("base64"));
}

function base64UrlOf(min: number, max: number): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString("base64url"));
}

/** Carrier vocabulary: ordinary operational prose that no rule touches (no digits, no secret words). */
export const carrierWords = [
  "the",
  "pod",
  "restarted",
  "after",
  "probe",
  "failed",
  "deployment",
  "rollout",
  "paused",
  "alert",
  "fired",
  "for",
  "container",
  "image",
  "pulled",
  "node",
  "pressure",
  "cleared",
  "event",
  "received",
  "from",
  "source",
  "policy",
  "violation",
  "cluster",
  "upstream",
  "service",
  "latency",
  "request",
  "handled",
  "status",
  "check",
  "again",
  "later",
  "queue",
  "drained",
  "retry",
  "scheduled",
  "shell",
  "spawned",
  "terminal",
  "attached",
  "file",
  "opened",
  "warning",
  "notice",
] as const;

export const carrierArb = fc.array(fc.constantFrom(...carrierWords), { minLength: 2, maxLength: 10 });

/** What sits right before a secret in free text. */
export const separatorArb = fc.constantFrom(
  " ",
  "\n",
  "\t",
  ", ",
  " (",
  ") ",
  "=",
  ": ",
  '"',
  "'",
  "[",
  "]",
  " <",
  "> ",
);

function sample(
  kind: RedactionKind,
  cores: readonly string[],
  text: string,
  value: unknown,
  yaml: string,
  url?: string,
): SecretSample {
  return url === undefined ? { kind, cores, text, value, yaml } : { kind, cores, text, value, yaml, url };
}

/** A field name that says nothing (the string rules alone must find the secret). */
const plainKeyArb = fc.constantFrom("note", "detail", "message", "value", "data", "evidence", "output");

/** A secret recognisable by its shape: contexts are generic. */
function shaped(
  kind: RedactionKind,
  arb: fc.Arbitrary<{ token: string; cores: string[] }>,
): fc.Arbitrary<SecretSample> {
  return fc.tuple(arb, plainKeyArb, fc.constantFrom(0, 1, 2, 3)).map(([{ token, cores }, key, form]) => {
    const text = [token, `value ${token}`, `"${token}"`, `(${token})`][form] as string;
    const value = form % 2 === 0 ? { [key]: token } : { [key]: [`found ${token} here`] };
    return sample(kind, cores, text, value, `${key}: ${token}`, `https://example.com/hooks/${token}/deliver`);
  });
}

const emailArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    charsWithDigit(`${lower}${digits}`, 1, 12),
    chars(`${lower}${digits}._+-`, 0, 8),
    fc.array(chars(`${lower}${digits}`, 1, 10), { minLength: 1, maxLength: 3 }),
    chars(lower, 2, 6),
    plainKeyArb,
  )
  .map(([a, b, labels, tld, key]) => {
    const email = `${a}${b.length > 0 ? `.${b.replace(/^[._+-]+|[._+-]+$/g, "") || "x"}` : ""}@${labels.join(".")}.${tld}`;
    return sample(
      "email",
      [email],
      `contact ${email}`,
      { [key]: email, owner: { email } },
      `owner: ${email}`,
      `https://example.com/users/${email}/profile`,
    );
  });

const apiKeyNames = [
  "api_key",
  "apikey",
  "API_KEY",
  "x-api-key",
  "X-API-Key",
  "apiKey",
  "access_key",
  "ACCESS_KEY",
  "client_api_key",
];
const apiKeyArb: fc.Arbitrary<SecretSample> = fc
  .tuple(fc.constantFrom(...apiKeyNames), charsWithDigit(`${alnum}-_`, 16, 48), fc.constantFrom(0, 1, 2, 3))
  .map(([name, v, form]) => {
    const text = [`${name}=${v}`, `${name}: ${v}`, `"${name}": "${v}"`, `${name}='${v}'`][form] as string;
    return sample(
      "api_key",
      [v],
      text,
      { [name]: v },
      `${name}: ${v}`,
      `https://api.example.com/v1/items?${name}=${v}&page=2`,
    );
  });

const secretNames = [
  "password",
  "passwd",
  "DB_PASSWORD",
  "MYSQL_ROOT_PASSWORD",
  "secret",
  "client_secret",
  "token",
  "auth_token",
  "SLACK_SIGNING_SECRET",
  "PGPASSWORD",
  "private_key",
  "passphrase",
  "session_id",
  "webhookSecret",
  "refresh_token",
];
const passwordAlphabet = `${alnum}!#$%^*()_+-.~/@`;
const urlSafe = `${alnum}._~-`;
const secretArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    fc.constantFrom(...secretNames),
    charsWithDigit(passwordAlphabet, 8, 32).filter((v) => !v.startsWith("-")),
    charsWithDigit(urlSafe, 8, 24),
    charsWithDigit(`${alnum} `, 8, 24)
      .map((v) => v.trim())
      .filter((v) => v.length >= 6 && /\d/.test(v)),
    fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7),
    fc.constantFrom(0, 1, 2),
  )
  .map(([name, v, safe, spaced, form, yamlForm]) => {
    const text = [
      `${name}=${v}`,
      `${name}: ${v}`,
      `"${name}": "${v}"`,
      `${name}="${v}"`,
      `Server=db;Database=app;User Id=svc;Password=${spaced};`,
      `--password ${v}`,
      `mysql -u root -p${v}`,
      `curl -u admin:${safe} https://example.com/api`,
    ][form] as string;
    const cores = [form === 4 ? spaced : form === 7 ? safe : v];
    const yaml = [`${name}: ${v}`, `${name}: "${spaced}"`, `${name}: |\n  ${v}\n  ${safe}`][
      yamlForm
    ] as string;
    const yamlCores = yamlForm === 1 ? [spaced] : yamlForm === 2 ? [v, safe] : [v];
    return sample(
      "secret",
      [...new Set([...cores, ...yamlCores, safe, v])],
      `${text} ${name}: ${v}`,
      { [name]: v, env: [{ name: name.toUpperCase(), value: safe }], quoted: `${name}="${spaced}"` },
      yaml,
      `https://app.example.com/login?user=bob&password=${safe}`,
    );
  });

const tokenArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    charsWithDigit(`${base64url}._~+/`, 16, 64),
    fc.constantFrom("", "=", "=="),
    chars(alnum, 3, 12),
    charsWithDigit(alnum, 8, 24),
    fc.constantFrom(0, 1, 2, 3, 4),
  )
  .map(([t, pad, user, pass, form]) => {
    const token = t + pad;
    const basic = Buffer.from(`${user}:${pass}`).toString("base64");
    const text = [
      `Authorization: Bearer ${token}`,
      `bearer ${token}`,
      `BEARER ${token}`,
      `Authorization: Basic ${basic}`,
      `-H "Authorization: Bearer ${token}"`,
    ][form] as string;
    const cores = form === 3 ? [basic] : [t];
    return sample(
      "token",
      cores,
      text,
      { headers: { Authorization: `Bearer ${token}` }, note: text },
      `authorization: Bearer ${token}`,
      `https://api.example.com/callback?access_token=${t.replace(/[+/]/g, "_")}`,
    );
  });

const slackArb = shaped(
  "slack_token",
  fc
    .tuple(
      fc.constantFrom("xoxb", "xoxp", "xoxa", "xoxr", "xoxs", "xapp", "xoxe.xoxp"),
      chars(digits, 10, 13),
      chars(digits, 10, 13),
      chars(alnum, 24, 32),
      chars(hex, 32, 64),
    )
    .map(([prefix, a, b, c, h]) => {
      if (prefix === "xapp") return { token: `xapp-1-A${a}-${b}-${h}`, cores: [`${a}-${b}-${h}`] };
      if (prefix === "xoxe.xoxp") return { token: `xoxe.xoxp-1-${c}${h}`, cores: [`${c}${h}`] };
      if (prefix === "xoxp")
        return { token: `${prefix}-${a}-${b}-${a}-${h}`, cores: [`${a}-${b}-${a}-${h}`] };
      return { token: `${prefix}-${a}-${b}-${c}`, cores: [`${a}-${b}-${c}`] };
    }),
);

const githubArb = shaped(
  "github_token",
  fc
    .tuple(
      fc.constantFrom("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
      chars(alnum, 22, 22),
      chars(alnum, 36, 59),
    )
    .map(([prefix, a, b]) =>
      prefix === "github_pat_"
        ? { token: `github_pat_${a}_${b}`, cores: [`${a}_${b}`] }
        : { token: `${prefix}${b.slice(0, 36)}`, cores: [b.slice(0, 36)] },
    ),
);

const gitlabArb = shaped(
  "gitlab_token",
  fc
    .tuple(
      fc.constantFrom(
        "glpat-",
        "gldt-",
        "glrt-",
        "glptt-",
        "glsoat-",
        "glcbt-",
        "glft-",
        "glimt-",
        "glagent-",
        "gloas-",
        "glffct-",
        "GR1348941",
      ),
      charsWithDigit(`${alnum}_-`, 20, 32),
    )
    .map(([prefix, body]) => ({ token: `${prefix}${body}`, cores: [body] })),
);

const urlArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    fc.constantFrom("https", "http", "postgres", "mongodb+srv", "redis", "amqp"),
    chars(lower, 3, 10),
    charsWithDigit(urlSafe, 8, 32),
    fc.array(chars(`${lower}${digits}`, 1, 10), { minLength: 2, maxLength: 3 }),
    fc.constantFrom(
      "token",
      "access_token",
      "api_key",
      "sig",
      "signature",
      "X-Amz-Signature",
      "password",
      "client_secret",
      "key",
      "code",
    ),
    charsWithDigit(alnum, 8, 12),
    fc.constantFrom(0, 1, 2, 3),
  )
  .map(([scheme, user, secret, hostLabels, param, id, form]) => {
    const host = `${hostLabels.join(".")}.example`;
    const url = [
      `${scheme}://${user}:${secret}@${host}/db?sslmode=require`,
      `https://${host}/v1/resource?${param}=${secret}&page=2`,
      `https://hooks.slack.com/services/T${id}/B${id}/${secret}`,
      `https://${host}/file.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101&X-Amz-Signature=${secret}`,
    ][form] as string;
    return sample("url", [secret], `fetching ${url} now`, { endpoint: url }, `endpoint: ${url}`, url);
  });

function hexGroup(): fc.Arbitrary<string> {
  return chars(hex, 1, 4);
}

const ipArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
    fc.array(hexGroup(), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 7 }),
    fc.integer({ min: 1, max: 7 }),
    fc.constantFrom(0, 1, 2, 3, 4, 5),
    fc.boolean(),
    plainKeyArb,
  )
  .map(([octets, groups, at, run, form, upperCase, key]) => {
    const v4 = octets.join(".");
    const g = groups
      .map((x, i) => (i === 7 && !/\d/.test(groups.join("")) ? `${x}1` : x))
      .map((x) => x.slice(0, 4));
    let ip: string;
    let bracketable = true;
    switch (form) {
      case 0:
        ip = v4;
        bracketable = false;
        break;
      case 1:
        ip = g.join(":");
        break;
      case 2: {
        const end = Math.min(8, at + run);
        ip = `${g.slice(0, at).join(":")}::${g.slice(end).join(":")}`;
        if (!/\d/.test(ip)) ip = `${ip}${ip.endsWith(":") ? "" : ":"}1`;
        break;
      }
      case 3:
        ip = `::ffff:${v4}`;
        break;
      case 4:
        ip = `fe80::${g.slice(0, 3).join(":")}%eth${octets[0]}`;
        break;
      default:
        ip = `ip-${octets.join("-")}`;
        bracketable = false;
    }
    if (upperCase) ip = ip.toUpperCase().replace("ETH", "eth").replace("IP-", "ip-");
    const core = form === 5 ? octets.join("-") : ip;
    const url = bracketable ? `http://[${ip.replace("%", "%25")}]:8080/metrics` : `http://${ip}:8080/metrics`;
    return sample(
      "ip",
      [core],
      `connection from ${ip} refused`,
      { [key]: ip, peer: { address: ip } },
      `address: ${ip}`,
      form === 5 ? undefined : url,
    );
  });

const namespacePrefixes = ["team", "payments", "shop", "data", "ml", "web", "batch", "infra"];
const namespaceArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    fc.constantFrom(...namespacePrefixes),
    charsWithDigit(`${lower}${digits}`, 3, 8),
    fc.integer({ min: 0, max: 10 }),
    fc.integer({ min: 0, max: 4 }),
    fc.boolean(),
  )
  .map(([prefix, suffix, form, valueForm, mention]) => {
    const ns = `${prefix}-${suffix}`;
    const text = [
      `namespace=${ns}`,
      `namespace: ${ns}`,
      `"namespace":"${ns}"`,
      `k8s.ns.name=${ns}`,
      `k8s_ns_name=${ns}`,
      `ns=${ns}`,
      `kubectl get pods -n ${ns}`,
      `helm upgrade app ./chart --namespace ${ns}`,
      `uri=/api/v1/namespaces/${ns}/pods`,
      `user=system:serviceaccount:${ns}:default`,
      `namespace/${ns} created`,
    ][form] as string;
    const value = [
      { namespace: ns },
      { "k8s.ns.name": ns, output: `shell spawned in ${ns}` },
      { metadata: { name: "app", namespace: ns } },
      { kind: "Namespace", metadata: { name: ns } },
      { namespaces: [ns, "kube-system"] },
    ][valueForm];
    return sample(
      "namespace",
      [ns],
      mention ? `${text} (pod restarted in ${ns})` : text,
      value,
      valueForm % 2 === 0 ? `namespace: ${ns}` : `metadata:\n  name: app\n  namespace: ${ns}`,
      `https://k8s.example.com/api/v1/namespaces/${ns}/pods`,
    );
  });

const awsArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    fc.constantFrom("AKIA", "ASIA", "AROA", "AIDA"),
    chars(`${upper}${digits}`, 16, 16),
    chars(`${alnum}/+`, 40, 40),
    fc.constantFrom(
      "aws_secret_access_key = ",
      "AWS_SECRET_ACCESS_KEY=",
      '"SecretAccessKey": "',
      "secretAccessKey: ",
    ),
    fc.boolean(),
  )
  .map(([prefix, id, secret, context, useSecret]) => {
    const keyId = `${prefix}${id}`;
    const quoted = context.endsWith('"');
    const secretText = `${context}${secret}${quoted ? '"' : ""}`;
    return useSecret
      ? sample(
          "aws_key",
          [secret],
          secretText,
          { aws_secret_access_key: secret, SecretAccessKey: secret },
          `aws_secret_access_key: ${secret}`,
        )
      : sample(
          "aws_key",
          [id],
          `export AWS_ACCESS_KEY_ID=${keyId}`,
          { AccessKeyId: keyId, note: `key ${keyId}` },
          `aws_access_key_id: ${keyId}`,
          `https://s3.example.com/b?AWSAccessKeyId=${keyId}&Expires=1`,
        );
  });

const jwtArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    chars(alnum, 4, 16),
    fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
    base64UrlOf(32, 64),
    fc.constantFrom("HS256", "RS256", "ES256"),
    fc.constantFrom(0, 1, 2),
  )
  .map(([sub, iat, signature, alg, form]) => {
    const header = Buffer.from(JSON.stringify({ alg, typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ sub, iat, scope: "read" })).toString("base64url");
    const jwt = `${header}.${payload}.${signature}`;
    const text = [`jwt ${jwt}`, `Bearer ${jwt}`, `id_token=${jwt}`][form] as string;
    return sample(
      "jwt",
      [payload, signature],
      text,
      { session: jwt },
      `idToken: ${jwt}`,
      `https://app.example.com/cb#id_token=${jwt}`,
    );
  });

const pemArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    fc.constantFrom("RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", "", "DSA "),
    fc.array(base64Of(24, 48), { minLength: 2, maxLength: 6 }),
    plainKeyArb,
  )
  .map(([type, lines, key]) => {
    const begin = `-----BEGIN ${type}PRIVATE KEY-----`;
    const end = `-----END ${type}PRIVATE KEY-----`;
    const pem = [begin, ...lines, end].join("\n");
    const codeBlock = [begin, ...lines, end].map((line, i) => [i + 10, `  ${line}\n`]);
    const yaml = `tls.key: |\n${[begin, ...lines, end].map((l) => `    ${l}`).join("\n")}`;
    return sample(
      "private_key",
      lines,
      `key material:\n${pem}\nend of file`,
      { [key]: pem, code_block: codeBlock },
      yaml,
    );
  });

const stripeArb = shaped(
  "stripe_key",
  fc
    .tuple(
      fc.constantFrom("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"),
      chars(alnum, 24, 64),
      base64Of(24, 32),
    )
    .map(([prefix, body, b64]) =>
      prefix === "whsec_"
        ? { token: `whsec_${b64}`, cores: [b64] }
        : { token: `${prefix}${body}`, cores: [body] },
    ),
);

const dataKeyArb = fc.tuple(chars(lower, 1, 1), chars(`${lower}${digits}._-`, 2, 12)).map(([a, b]) => a + b);

/** A Kubernetes Secret with 1–4 `data` entries (and sometimes `stringData`). */
const kubernetesSecretArb: fc.Arbitrary<SecretSample> = fc
  .tuple(
    fc.uniqueArray(dataKeyArb, { minLength: 1, maxLength: 4 }),
    fc.array(base64Of(9, 40), { minLength: 4, maxLength: 4 }),
    fc.option(
      charsWithDigit(`${alnum} ._-`, 10, 30).map((s) => s.trim()),
      { nil: undefined },
    ),
    fc.constantFrom(0, 1, 2, 3),
  )
  // Data keys are kept on purpose: a value sharing an 8-character window with a key would be
  // reported as a leak that is only the (visible) key.
  .filter(([keys, values, stringValue]) => {
    const keyText = keys.join(" ");
    return [...values, stringValue ?? ""].every((core) => {
      for (let i = 0; i + 8 <= core.length; i++) if (keyText.includes(core.slice(i, i + 8))) return false;
      return true;
    });
  })
  .map(([keys, values, stringValue, wrap]) => {
    const data: Record<string, string> = {};
    keys.forEach((k, i) => {
      data[k] = values[i] as string;
    });
    const secret: Record<string, unknown> = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db-creds", labels: { app: "checkout" } },
      type: "Opaque",
      data,
    };
    const cores = keys.map((_, i) => values[i] as string);
    if (stringValue !== undefined && stringValue.length >= 8) {
      secret.stringData = { "config.yaml": stringValue };
      cores.push(stringValue);
    }
    const value =
      wrap === 0
        ? secret
        : wrap === 1
          ? { kind: "SecretList", items: [{ ...secret, kind: undefined }] }
          : wrap === 2
            ? { requestObject: secret, verb: "create" }
            : {
                kind: "Secret",
                metadata: {
                  annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(secret) },
                },
                data,
              };
    const yamlData = keys
      .map((k, i) => (i % 2 === 0 ? `  ${k}: ${values[i]}` : `  ${k}: "${values[i]}"`))
      .join("\n");
    const yamlString = secret.stringData === undefined ? "" : `\nstringData:\n  config.yaml: ${stringValue}`;
    const yaml = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\ntype: Opaque\ndata:\n${yamlData}${yamlString}`;
    return sample("kubernetes_secret", cores, `object=${JSON.stringify(secret)}`, value, yaml);
  });

/** Extra patterns every property-test policy carries (kind `custom`). */
export const testExtraPatterns = [
  { name: "acme-license", pattern: "ACME-[A-Z0-9]{24}" },
  { name: "ticket-secret", pattern: "tkt_(?<secret>[a-f0-9]{32})", replacement: "[REDACTED_TICKET]" },
] as const;

const customArb = shaped(
  "custom",
  fc
    .tuple(fc.boolean(), chars(`${upper}${digits}`, 24, 24), chars(hex, 32, 32))
    .map(([acme, a, h]) => (acme ? { token: `ACME-${a}`, cores: [a] } : { token: `tkt_${h}`, cores: [h] })),
);

const awsIdOnly = awsArb;

/** The generator of each kind. */
export const secretArbitraries: Readonly<Record<RedactionKind, fc.Arbitrary<SecretSample>>> = {
  email: emailArb,
  api_key: apiKeyArb,
  secret: secretArb,
  token: tokenArb,
  slack_token: slackArb,
  github_token: githubArb,
  gitlab_token: gitlabArb,
  url: urlArb,
  ip: ipArb,
  namespace: namespaceArb,
  aws_key: awsIdOnly,
  jwt: jwtArb,
  private_key: pemArb,
  stripe_key: stripeArb,
  kubernetes_secret: kubernetesSecretArb,
  custom: customArb,
};

const placeholderText = [...Object.values(placeholders), "[REDACTED_TICKET]"].join(" ");

/**
 * The first piece of a core found in `output` but not in `background` (the same document without the
 * secret): the whole core when shorter than 8 characters, else any 8-character window. `undefined`
 * when nothing leaked.
 */
export function leakedPiece(
  output: string,
  cores: readonly string[],
  background: string,
): string | undefined {
  for (const core of cores) {
    if (core.length < 8) {
      if (output.includes(core) && !background.includes(core) && !placeholderText.includes(core)) return core;
      continue;
    }
    for (let i = 0; i + 8 <= core.length; i++) {
      const window = core.slice(i, i + 8);
      if (output.includes(window) && !background.includes(window) && !placeholderText.includes(window))
        return window;
    }
  }
  return undefined;
}

/** Every key and string of a JSON value, joined (for leak checks that must see through JSON escapes). */
export function flattenStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) for (const v of value) flattenStrings(v, into);
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      into.push(k);
      flattenStrings(v, into);
    }
  }
  return into;
}

/** What sits right after a secret in free text. */
export const rightSeparatorArb = fc.constantFrom(" ", "\n", "\t", ", ", ") ", '"', "'", "]", "> ", ". ", ";");

/** A small JSON tree of carrier words with the sample as a value, as a key and as a structured field. */
export function buildTree(words: readonly string[], seed: number, secret: SecretSample | undefined): unknown {
  const w = (i: number): string => words[i % words.length] as string;
  const valueAt = seed % 4;
  const keyAt = (seed >> 2) % 3;
  const fieldAt = (seed >> 4) % 3;
  const leaf = (i: number): string => (secret !== undefined && i === valueAt ? secret.text : w(i + 3));
  const inner: Record<string, unknown> = { [w(3)]: leaf(2), count: 42 };
  const middle: Record<string, unknown> = { [w(2)]: [leaf(1), inner], enabled: true };
  const tree: Record<string, unknown> = {
    [w(0)]: leaf(0),
    [`${w(1)}_group`]: middle,
    items: [leaf(3), null, 7],
  };
  if (secret !== undefined) {
    inner.manifest = secret.yaml;
    const containers = [tree, middle, inner];
    (containers[keyAt] as Record<string, unknown>)[secret.text] = w(4);
    (containers[fieldAt] as Record<string, unknown>).extra = secret.value;
  }
  return tree;
}

function yamlAround(words: readonly string[], fragment: string): string {
  const w = (i: number): string => words[i % words.length] as string;
  return `kind: Event\n${w(0)}: ${w(1)} ${w(2)}\nitems:\n  - ${w(3)}\n${fragment}\n${w(4)}_note: ${w(5)}\n`;
}

function noLeak(output: string, secret: SecretSample, background: string, where: string): void {
  const piece = leakedPiece(output, secret.cores, background);
  if (piece !== undefined) {
    assert.fail(
      `${secret.kind}: ${JSON.stringify(piece)} survived (${where})\noutput: ${output.slice(0, 2000)}`,
    );
  }
}

function checkText(
  text: string,
  secret: SecretSample,
  background: string,
  policy: CompiledRedactionPolicy,
  where: string,
): void {
  noLeak(redactText(text, policy).text, secret, background, `${where}, redactText`);
  noLeak(redactValue(text, policy).value as string, secret, background, `${where}, redactValue`);
}

/** JSON bodies as a template or serializer may write them; each run checks the compact one and one other. */
const bodyStyles: ReadonlyArray<readonly [string, (tree: unknown) => string]> = [
  ["pretty JSON", (tree) => JSON.stringify(tree, null, 2)],
  ["JSON with \\/", (tree) => JSON.stringify(tree).replaceAll("/", "\\/")],
  ["JSON with \\u002f", (tree) => JSON.stringify(tree).replaceAll("/", "\\u002f")],
];

function checkJson(
  tree: unknown,
  secret: SecretSample,
  background: string,
  policy: CompiledRedactionPolicy,
  style: number,
): void {
  const redacted = redactValue(tree, policy).value;
  noLeak(flattenStrings(redacted).join("\u0000"), secret, background, "JSON, redactValue");
  const [styleName, write] = bodyStyles[style % bodyStyles.length] as (typeof bodyStyles)[number];
  const bodies: ReadonlyArray<readonly [string, string]> = [
    ["JSON.stringify", JSON.stringify(tree)],
    [styleName, write(tree)],
  ];
  for (const [where, body] of bodies) {
    const out = redactText(body, policy).text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(out);
    } catch {
      assert.fail(
        `${secret.kind}: ${where} is no longer valid JSON after redactText:\n${out.slice(0, 2000)}`,
      );
    }
    noLeak(flattenStrings(parsed).join("\u0000"), secret, background, `${where}, redactText`);
  }
}

export function checkSample(
  secret: SecretSample,
  words: readonly string[],
  cut: number,
  left: string,
  right: string,
  seed: number,
  policy: CompiledRedactionPolicy,
): void {
  const background = [...words, ...flattenStrings(buildTree(words, seed, undefined))].join(" ");
  const at = cut % (words.length + 1);
  const text = `${words.slice(0, at).join(" ")}${left}${secret.text}${right}${words.slice(at).join(" ")}`;
  checkText(text, secret, background, policy, "free text");
  checkJson(buildTree(words, seed, secret), secret, background, policy, seed >> 6);
  noLeak(redactText(yamlAround(words, secret.yaml), policy).text, secret, background, "YAML, redactText");
  if (secret.url !== undefined) {
    checkText(`${words.join(" ")} see ${secret.url}${right}`, secret, background, policy, "URL in text");
    checkJson({ link: secret.url, words }, secret, background, policy, seed >> 8);
  }
}
