import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  createNamespaceLabeler,
  hashNamespace,
  isHashedNamespace,
  isNamespaceKey,
} from "./namespace-labeler.ts";

const label = /^ns-[0-9a-f]{10}$/;
const nameArb = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const keyArb = fc.uint8Array({ minLength: 16, maxLength: 64 });

test("hash: same namespace and key → same label; the label is ns-<10 hex> and does not contain the name", () => {
  fc.assert(
    fc.property(nameArb, keyArb, (name, key) => {
      const a = createNamespaceLabeler({ mode: "hash", hashKey: key, allow: [] }).replacementFor(name);
      const b = createNamespaceLabeler({
        mode: "hash",
        hashKey: Uint8Array.from(key),
        allow: [],
      }).replacementFor(name);
      assert.equal(a, b);
      assert.match(a ?? "", label);
      assert.equal(a, hashNamespace(name, key));
      // A name of hex characters only can occur in a hex label by chance; any other name cannot.
      if (/[^0-9a-f]/.test(name)) assert.ok(!(a ?? "").slice(3).includes(name));
    }),
    { numRuns: 2_000 },
  );
});

test("hash: a different key gives a different label (keyed, so a list of likely names cannot be hashed without it)", () => {
  fc.assert(
    fc.property(nameArb, keyArb, keyArb, (name, k1, k2) => {
      fc.pre(Buffer.compare(Buffer.from(k1), Buffer.from(k2)) !== 0);
      assert.notEqual(hashNamespace(name, k1), hashNamespace(name, k2));
    }),
    { numRuns: 2_000 },
  );
});

test("hash: different namespaces of one tenant do not collide", () => {
  const key = Buffer.alloc(32, 7);
  const names = Array.from({ length: 5_000 }, (_, i) => `team-${i}`);
  assert.equal(new Set(names.map((n) => hashNamespace(n, key))).size, names.length);
});

test("allowlist: exact names and prefix*; allowlisted names pass in both modes", () => {
  for (const mode of ["redact", "hash"] as const) {
    const labeler = createNamespaceLabeler({
      mode,
      hashKey: Buffer.alloc(16, 1),
      allow: ["default", "kube-*"],
    });
    assert.equal(labeler.replacementFor("default"), undefined);
    assert.equal(labeler.replacementFor("kube-system"), undefined);
    assert.equal(labeler.replacementFor("kube-public"), undefined);
    assert.notEqual(labeler.replacementFor("defaults"), undefined);
    assert.notEqual(labeler.replacementFor("payments"), undefined);
  }
  assert.equal(
    createNamespaceLabeler({ mode: "redact", allow: [] }).replacementFor("x"),
    "[REDACTED_NAMESPACE]",
  );
});

test("hashed labels are recognised (never hashed twice)", () => {
  assert.ok(isHashedNamespace("ns-0123456789"));
  assert.ok(!isHashedNamespace("ns-0123"));
  assert.ok(!isHashedNamespace("team-0123456789"));
});

test("namespace keys", () => {
  for (const key of [
    "namespace",
    "Namespace",
    "ns",
    "k8s.ns.name",
    "k8s_ns_name",
    "metadata.namespace",
    "resource.namespace",
    "ka.target.namespace",
    "trivy-operator.resource.namespace",
    "targetNamespace",
    "namespaces",
    "resource.ns",
  ]) {
    assert.ok(isNamespaceKey(key), key);
  }
  for (const key of ["name", "dns", "namespaceSelector", "nsfw", "k8s.pod.name", "tns"]) {
    assert.ok(!isNamespaceKey(key), key);
  }
});
