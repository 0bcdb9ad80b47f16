/**
 * The shape of a string rule. A rule is a finder: it reports intervals to redact into `Matches` and
 * never builds strings itself. `needs`/`needsAny` are feature bits (see `features.ts`) and `minLength` a
 * length, all checked before the rule runs at all.
 */
import type { RedactionKind } from "./kinds.ts";
import type { Matches } from "./matches.ts";
import type { NamespaceLabeler } from "./namespace-labeler.ts";

/** What a rule may consult and record while it runs. One per `redactValue`/`redactText` call. */
export interface RuleEnv {
  /** Kinds the policy enables; a rule reports only findings of enabled kinds. */
  readonly enabled: ReadonlySet<RedactionKind>;
  readonly namespaces: NamespaceLabeler;
  /** Records a namespace found in a recognised position, so its mentions elsewhere get the same replacement. */
  learnNamespace(name: string, replacement: string): void;
  /** Set by the private-key rule when a PEM block reaches the end of the string without its END line. */
  pemUnterminated: boolean;
  /**
   * The text being scanned is (a view of) a JSON document: every unescaped `"` in it is JSON
   * structure, so one found where a value could start closes the enclosing string rather than
   * opening a quoted value.
   */
  jsonDocument: boolean;
}

export interface StringRule {
  /** For docs and debugging only. */
  readonly name: string;
  /** Kinds the rule can report; it is compiled into a policy only when one of them is enabled. */
  readonly kinds: readonly RedactionKind[];
  /** Feature bits that must all be present. */
  readonly needs: number;
  /** Feature bits of which at least one must be present (0: no such condition). */
  readonly needsAny: number;
  /** Length of the shortest text in which the rule can find anything (0: no such bound). */
  readonly minLength: number;
  find(text: string, out: Matches, env: RuleEnv): void;
}
