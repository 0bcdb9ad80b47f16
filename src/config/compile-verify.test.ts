import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadYaml, yamlProblems } from "./testing.ts";

const env = { CUSTOM_SECRET: "test-secret-not-real" };

/** A custom source whose verify block has `lines` (YAML, one per entry) after the required keys. */
function custom(...lines: string[]): string {
  return [
    "tenants:",
    "  - id: acme",
    "    sources:",
    "      - id: custom",
    "        secrets: [env:CUSTOM_SECRET]",
    "        verify:",
    "          algorithm: sha256",
    "          signatureHeader: X-Signature",
    "          encoding: hex",
    ...lines.map((line) => `          ${line}`),
    "",
  ].join("\n");
}

describe("custom verify block", () => {
  it("defaults keyEncoding to utf8, signedContent to {body}, timestamp unit to s and tolerance to the env", () => {
    const plain = loadYaml(custom(), env).tenants.get("acme")?.sources.get("custom");
    assert.deepEqual(plain?.profile.scheme, {
      kind: "hmac",
      algorithm: "sha256",
      keyEncoding: "utf8",
      signatureHeader: "x-signature",
      encoding: "hex",
      signedContent: "{body}",
    });
    const stamped = loadYaml(custom('signedContent: "{timestamp}.{body}"', "timestampHeader: X-Ts"), {
      ...env,
      ZEN_TOLERANCE_SECONDS: "90",
    });
    const scheme = stamped.tenants.get("acme")?.sources.get("custom")?.profile.scheme;
    assert.deepEqual(scheme?.kind === "hmac" && scheme.timestamp, {
      header: "x-ts",
      unit: "s",
      toleranceSeconds: 90,
    });
  });

  it("takes the window from the source when the block sets none", () => {
    const yaml = custom('signedContent: "{timestamp}.{body}"', "timestampHeader: X-Ts").replace(
      "        verify:",
      "        toleranceSeconds: 30\n        verify:",
    );
    const scheme = loadYaml(yaml, env).tenants.get("acme")?.sources.get("custom")?.profile.scheme;
    assert.equal(scheme?.kind === "hmac" && scheme.timestamp?.toleranceSeconds, 30);
  });

  it("refuses {id} without idHeader and {timestamp} without timestampHeader", () => {
    assert.deepEqual(yamlProblems(custom('signedContent: "{id}.{timestamp}.{body}"'), env), [
      "tenants[0].sources[0].verify.signedContent: uses {timestamp} but timestampHeader is not set",
      "tenants[0].sources[0].verify.signedContent: uses {id} but idHeader is not set",
    ]);
  });

  it("refuses unknown placeholders and a template without {body}", () => {
    assert.deepEqual(yamlProblems(custom('signedContent: "{ts}:{payload}"'), env), [
      "tenants[0].sources[0].verify.signedContent: unknown placeholder {ts}; use {body} {timestamp} {id} {url}",
      "tenants[0].sources[0].verify.signedContent: unknown placeholder {payload}; use {body} {timestamp} {id} {url}",
      "tenants[0].sources[0].verify.signedContent: must include {body}: otherwise the payload is not authenticated",
    ]);
  });

  it("refuses an unsigned timestamp header and timestamp options without one", () => {
    assert.deepEqual(yamlProblems(custom("timestampHeader: X-Ts"), env), [
      "tenants[0].sources[0].verify.timestampHeader: is set but signedContent has no {timestamp}: an unsigned timestamp gives no replay protection",
    ]);
    assert.deepEqual(yamlProblems(custom("timestampUnit: ms", "toleranceSeconds: 60"), env), [
      "tenants[0].sources[0].verify.timestampUnit: only applies with timestampHeader",
      "tenants[0].sources[0].verify.toleranceSeconds: only applies with timestampHeader",
    ]);
  });

  it("refuses a window set both on the source and in the block", () => {
    const yaml = custom(
      'signedContent: "{timestamp}.{body}"',
      "timestampHeader: X-Ts",
      "toleranceSeconds: 60",
    ).replace("        verify:", "        toleranceSeconds: 30\n        verify:");
    assert.deepEqual(yamlProblems(yaml, env), [
      "tenants[0].sources[0].toleranceSeconds: set toleranceSeconds here or in verify, not both",
    ]);
  });

  it("refuses bad enum values, naming the choices", () => {
    assert.deepEqual(
      yamlProblems(custom().replace("sha256", "md5").replace("encoding: hex", "encoding: base32"), env),
      [
        'tenants[0].sources[0].verify.algorithm: expected one of "sha1", "sha256", "sha512", got "md5"',
        'tenants[0].sources[0].verify.encoding: expected one of "hex", "base64", got "base32"',
      ],
    );
  });

  it("refuses a verify value that is neither none nor a block", () => {
    const yaml = "tenants:\n  - id: acme\n    sources: [{ id: s, verify: off }]\n";
    assert.deepEqual(yamlProblems(yaml), [
      "tenants[0].sources[0].verify: expected none, a custom scheme (algorithm, signatureHeader, …) or { token: { header } }, got a string",
    ]);
  });

  it("requires the token scheme's header", () => {
    const yaml =
      "tenants:\n  - id: acme\n    sources: [{ id: s, verify: { token: {} }, secrets: [env:CUSTOM_SECRET] }]\n";
    assert.deepEqual(yamlProblems(yaml, env), ["tenants[0].sources[0].verify.token.header: required"]);
  });
});
