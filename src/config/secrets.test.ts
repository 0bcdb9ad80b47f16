import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSecretRef, resolveSecret } from "./secrets.ts";
import { fakeFiles } from "./testing.ts";

const sources = (env: Record<string, string>, files: Record<string, string> = {}) => ({
  env,
  readFile: fakeFiles(files),
  baseDir: "/etc/zen",
});

describe("secret references", () => {
  it("parses env: and file: references", () => {
    assert.deepEqual(parseSecretRef("env:GH_SECRET"), {
      ok: true,
      value: { kind: "env", name: "GH_SECRET" },
    });
    assert.deepEqual(parseSecretRef("file:/run/secrets/gh"), {
      ok: true,
      value: { kind: "file", path: "/run/secrets/gh" },
    });
  });

  it("refuses anything else without repeating it", () => {
    for (const raw of ["test-secret-not-real", "ENV:X", " env:X", "vault:x"]) {
      const parsed = parseSecretRef(raw);
      assert.equal(parsed.ok, false, raw);
      assert.ok(!parsed.ok && !parsed.message.includes(raw), raw);
    }
  });

  it("resolves env values verbatim", () => {
    const value = " test-secret-not-real ";
    assert.deepEqual(resolveSecret({ kind: "env", name: "S" }, sources({ S: value })), { ok: true, value });
  });

  it("strips only trailing newlines from files and resolves relative paths from the config directory", () => {
    const resolved = resolveSecret(
      { kind: "file", path: "secrets/s" },
      sources({}, { "/etc/zen/secrets/s": "  test-secret-not-real\r\n\n" }),
    );
    assert.deepEqual(resolved, { ok: true, value: "  test-secret-not-real" });
  });

  it("names unreadable files by path and reason only", () => {
    const resolved = resolveSecret({ kind: "file", path: "/run/secrets/gh" }, sources({}));
    assert.deepEqual(resolved, {
      ok: false,
      message: "cannot read secret file /run/secrets/gh: no such file",
    });
  });
});
