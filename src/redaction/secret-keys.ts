/**
 * Which names (object keys, `key=value` keys, env var and header names) hold secrets. A name is
 * secret when it *ends* with a secret word: `password`, `DB_PASSWORD`, `x-api-key`, `clientSecret`,
 * `aws_secret_access_key`, `token`, `SLACK_BOT_TOKEN`, optionally followed by a short number
 * (`password2`, `token_1`). Names that merely contain a word (`secretName`, `tokens`, `tokenizer`,
 * `passwordPolicy`) are not secret: their values are names or counts, not credentials.
 */
import { placeholders, type RedactionKind } from "./kinds.ts";

/** The secret words, as a regular expression source; shared with the `key=value` text rule. */
export const secretWordSource =
  "(?:pass(?:word|wd|phrase)|pwd|secret|token|credentials?|authorization|signature|cookie|session[_-]?id|(?:private|secret|signing|encryption|master|access|api)[_-]?key|apikey)(?:[-_.]?\\d{1,4})?";

const secretName = new RegExp(`${secretWordSource}$`, "i");
const awsSecretName = /(?:secret[_-]?access[_-]?key|aws.*secret|secret.*aws)/i;
const apiKeyName = /(?:api[_-]?key|apikey|access[_-]?key)(?:[-_.]?\d{1,4})?$/i;
const authorizationName = /authorization$/i;

/** The kind of credential a name holds, or `undefined` when the name is not secret. */
export type SecretKeyKind = Extract<RedactionKind, "secret" | "api_key" | "aws_key" | "token">;

/**
 * Classifies a name: `aws_key` (AWS secret access keys), `api_key`, `token` (`Authorization`) or
 * `secret`; `undefined` for names that do not hold credentials.
 */
export function classifySecretKey(name: string): SecretKeyKind | undefined {
  if (name.length < 3 || !secretName.test(name)) return undefined;
  if (awsSecretName.test(name)) return "aws_key";
  if (apiKeyName.test(name)) return "api_key";
  if (authorizationName.test(name)) return "token";
  return "secret";
}

/** The placeholder for a value held under a name of that kind. */
export function placeholderForSecretKey(kind: SecretKeyKind): string {
  switch (kind) {
    case "api_key":
      return placeholders.apiKey;
    case "token":
      return placeholders.token;
    case "aws_key":
    case "secret":
      return placeholders.secret;
    default: {
      const exhaustive: never = kind;
      return exhaustive;
    }
  }
}
