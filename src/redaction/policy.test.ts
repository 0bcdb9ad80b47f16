import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../domain/errors.ts";
import {
  checkPatternSyntax,
  compileExtraPattern,
  type ExtraPatternOptions,
  probeBudgetMs,
} from "./extra-pattern.ts";
import { redactionKinds } from "./kinds.ts";
import {
  compileRedactionPolicy,
  defaultRedactionPolicyOptions,
  type RedactionPolicyOptions,
} from "./policy.ts";
import { redactText } from "./redact-text.ts";

function problemsOf(options: RedactionPolicyOptions): readonly string[] {
  try {
    compileRedactionPolicy(options);
  } catch (err) {
    if (err instanceof ConfigError && err.code === "config_invalid") return err.problems;
    throw err;
  }
  assert.fail("expected a ConfigError");
}

const ns = { mode: "redact", allow: [] } as const;

describe("compileRedactionPolicy", () => {
  test("defaults: every kind on, namespaces redacted, frozen", () => {
    const policy = compileRedactionPolicy(defaultRedactionPolicyOptions);
    assert.deepEqual([...policy.enabled].sort(), [...redactionKinds].sort());
    assert.equal(policy.namespaces.mode, "redact");
    assert.ok(Object.isFrozen(policy));
    assert.ok(Object.isFrozen(policy.rules));
  });

  test("rules: only the listed kinds are redacted", () => {
    const policy = compileRedactionPolicy({ rules: ["email"], namespaces: ns });
    assert.equal(
      redactText("a@b.io password=x 10.0.0.1 namespace=prod", policy).text,
      "[REDACTED_EMAIL] password=x 10.0.0.1 namespace=prod",
    );
    const none = compileRedactionPolicy({ rules: [], namespaces: ns });
    assert.equal(none.rules.length, 0);
    assert.equal(redactText("a@b.io", none).text, "a@b.io");
  });

  test("every problem is reported, each naming its field", () => {
    const problems = problemsOf({
      rules: ["email", "passwords" as never],
      namespaces: { mode: "hash", allow: ["ok", "Bad Name", "kube-*"] },
      extraPatterns: [
        { name: "good", pattern: "ACME-[0-9]{8}" },
        { name: "broken", pattern: "ACME-[0-9" },
        { name: "bad name!", pattern: "x+", replacement: 'say "hi"' },
      ],
    });
    assert.deepEqual(problems, [
      'rules[1]: unknown kind "passwords"',
      "namespaces.hashKey: required when mode is hash",
      "namespaces.allow[1]: a namespace name, or a prefix ending in *",
      "extraPatterns[1].pattern: has an unterminated character class",
      "extraPatterns[2].name: must match ^[A-Za-z0-9_.-]{1,64}$",
      "extraPatterns[2].replacement: 1 to 64 characters, without quotes, backslashes or control characters",
    ]);
  });

  test("a hash key shorter than 16 bytes is refused", () => {
    assert.deepEqual(problemsOf({ namespaces: { mode: "hash", hashKey: Buffer.alloc(8), allow: [] } }), [
      "namespaces.hashKey: must be at least 16 bytes",
    ]);
  });

  test("a regex syntax error names the pattern index", () => {
    const problems = problemsOf({
      namespaces: ns,
      extraPatterns: [
        { name: "a", pattern: "x" },
        { name: "b", pattern: "(?<n>x)(?<n>y)" },
      ],
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /^extraPatterns\[1\]\.pattern: invalid regular expression/);
  });
});

describe("extra patterns: the catastrophic-backtracking and empty-match guards", () => {
  const refused: ReadonlyArray<readonly [string, RegExp]> = [
    ["(a+)+$", /catastrophic/],
    ["(a*)*b", /catastrophic/],
    ["(a|ab)*c", /catastrophic/],
    ["(?:x{1,9})+y", /catastrophic/],
    ["(\\w+\\s?)+$", /catastrophic/],
    ["(a)\\1", /backreference/],
    ["(?<q>a)\\k<q>", /backreference/],
    ["(?=a)*", /lookaround/],
    ["\\d+\\d+\\d+x", /took longer than/],
    ["[a-z]*[a-z]*[a-z]*!", /took longer than/],
    // Unbounded runs before a literal are quadratic over a long run of letters: bound them ({1,63}).
    ["[a-z0-9]+\\.corp\\.example", /took longer than/],
    ["a*", /empty string/],
    ["(?=x)", /empty string/],
    ["\\b", /empty string/],
    ["x?", /empty string/],
    ["", /is empty/],
    ["a".repeat(513), /longer than 512/],
    ["+a", /nothing to repeat/],
    ["(ab", /unbalanced/],
  ];
  for (const [pattern, why] of refused) {
    test(`refuses ${JSON.stringify(pattern.slice(0, 40))}`, () => {
      const result = compileExtraPattern({ name: "p", pattern }, 3);
      assert.ok("problems" in result, "refused");
      assert.match(result.problems.join("\n"), /^extraPatterns\[3\]\.pattern: /);
      assert.match(result.problems.join("\n"), why);
    });
  }

  const accepted: readonly ExtraPatternOptions[] = [
    { name: "acme", pattern: "ACME-[A-Z0-9]{24}" },
    { name: "host", pattern: "[a-z0-9]{1,63}(?:-[a-z0-9]{1,63})?\\.corp\\.example" },
    { name: "group", pattern: "emp(?<secret>[0-9]{6})" },
    { name: "flags", pattern: "internal-id:[a-f0-9]{8}", flags: "i" },
    { name: "alt", pattern: "(?:foo|bar)-[0-9]{4}" },
  ];
  for (const options of accepted) {
    test(`accepts ${options.pattern} quickly`, () => {
      const started = performance.now();
      const result = compileExtraPattern(options, 0);
      assert.ok("pattern" in result, JSON.stringify(result));
      assert.ok(performance.now() - started < probeBudgetMs, "well within the probe budget");
    });
  }

  test("flags other than i, m, s, u are refused", () => {
    const result = compileExtraPattern({ name: "p", pattern: "x", flags: "gy" }, 0);
    assert.ok("problems" in result);
    assert.match(result.problems[0] as string, /^extraPatterns\[0\]\.flags:/);
  });

  test("the syntax check on its own", () => {
    assert.equal(checkPatternSyntax("[(a+)+]"), undefined, "inside a class, parentheses are literal");
    assert.equal(checkPatternSyntax("\\(a+\\)+"), undefined, "escaped parentheses are literal");
    assert.equal(checkPatternSyntax("(?:ab)+c"), undefined, "a repeated group without inner quantifier");
    assert.match(checkPatternSyntax("((a)+)+") ?? "", /catastrophic/);
  });

  test("a (?<secret>…) group narrows the replacement; i flag works", () => {
    const policy = compileRedactionPolicy({
      rules: ["custom"],
      namespaces: ns,
      extraPatterns: [
        { name: "emp", pattern: "emp(?<secret>[0-9]{6})", replacement: "######" },
        { name: "id", pattern: "internal-id:[a-f0-9]{8}", flags: "i" },
      ],
    });
    assert.equal(redactText("emp123456 INTERNAL-ID:DEADBEEF", policy).text, "emp###### [REDACTED]");
    assert.deepEqual(redactText("emp123456", policy).counts, { custom: 1 });
  });
});
