/** Tenant-defined extra patterns (validated by `extra-pattern.ts`), applied before the built-in rules. */
import type { CompiledExtraPattern } from "../extra-pattern.ts";
import type { StringRule } from "../rule.ts";

/** One rule running every extra pattern; a `(?<secret>…)` group narrows the replacement to that group. */
export function customPatternsRule(patterns: readonly CompiledExtraPattern[]): StringRule {
  return {
    name: "extra-patterns",
    kinds: ["custom"],
    needs: 0,
    needsAny: 0,
    minLength: 0,
    find(text, out) {
      for (const { regex, replacement, secretGroup } of patterns) {
        regex.lastIndex = 0;
        for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
          if (m[0].length === 0) {
            regex.lastIndex++;
            continue;
          }
          const span = secretGroup ? m.indices?.groups?.secret : undefined;
          if (span !== undefined) out.add(span[0], span[1], replacement, "custom");
          else if (!secretGroup) out.add(m.index, m.index + m[0].length, replacement, "custom");
        }
      }
    },
  };
}
