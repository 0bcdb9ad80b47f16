/**
 * Provider credentials from env (the seed's names). A provider whose variables are all unset is simply
 * absent; a half-configured one (a URL without its token, say) is a problem, because it is far more
 * likely a deployment mistake than an intent. URLs are validated but never echoed: they can carry
 * credentials (`redis://:password@host`).
 */
import type {
  JiraProviderConfig,
  ProvidersConfig,
  RedisProviderConfig,
  ServiceNowProviderConfig,
  SlackProviderConfig,
  ZenBackProviderConfig,
} from "./config.ts";
import { type Env, envSecret, envValue } from "./env-schema.ts";
import { envLocation, type Problems } from "./problems.ts";
import { httpUrl, type Parsed, type Parser, urlWith } from "./values.ts";

/** Slack's Web API base; overridable so tests can point at a compatible server. */
export const defaultSlackApiUrl = "https://slack.com/api/";

/** Parses every provider's variables; see each `*ProviderConfig` for the variables and rules. */
export function parseProviders(env: Env, problems: Problems): ProvidersConfig {
  const slack = parseSlack(env, problems);
  const jira = parseJira(env, problems);
  const servicenow = parseServiceNow(env, problems);
  const zenBack = parseZenBack(env, problems);
  const redis = parseRedis(env, problems);
  return {
    ...(slack && { slack }),
    ...(jira && { jira }),
    ...(servicenow && { servicenow }),
    ...(zenBack && { zenBack }),
    ...(redis && { redis }),
  };
}

/** `SLACK_API_URL`: an http(s) URL, normalized to end in `/`. */
const slackApiUrl: Parser<string> = (raw) => {
  const url = httpUrl(raw);
  if (!url.ok) return url;
  // The Slack SDK joins method names onto this base, so it must end in a slash.
  const href = url.value.href;
  return { ok: true, value: href.endsWith("/") ? href : `${href}/` };
};

function parseSlack(env: Env, problems: Problems): SlackProviderConfig | undefined {
  const apiUrl = envValue(env, "SLACK_API_URL", slackApiUrl, problems);
  const botToken = envSecret(env, "SLACK_BOT_TOKEN", problems);
  const signingSecrets = slackSigningSecrets(env, problems);
  const appToken = envValue(env, "SLACK_APP_TOKEN", slackAppToken, problems);
  if (
    botToken === undefined &&
    signingSecrets === undefined &&
    appToken === undefined &&
    apiUrl === undefined
  ) {
    return undefined;
  }
  return {
    ...(botToken !== undefined && { botToken }),
    ...(signingSecrets !== undefined && { signingSecrets }),
    ...(appToken !== undefined && { appToken }),
    apiUrl: apiUrl ?? defaultSlackApiUrl,
  };
}

/**
 * `SLACK_SIGNING_SECRET`: one secret, or several separated by commas while a secret is rotated (any
 * one may match). Slack's secrets are hex, so a comma is never part of one; whitespace around an entry
 * is dropped. An empty entry is a problem (a stray comma hides a missing secret).
 */
function slackSigningSecrets(env: Env, problems: Problems): readonly string[] | undefined {
  const raw = envSecret(env, "SLACK_SIGNING_SECRET", problems);
  if (raw === undefined) return undefined;
  const secrets: string[] = [];
  raw.split(",").forEach((part, i) => {
    const secret = part.trim();
    if (secret === "") {
      problems.add(envLocation("SLACK_SIGNING_SECRET"), `entry ${i + 1} is empty (a stray comma?)`);
    } else if (!secrets.includes(secret)) {
      secrets.push(secret);
    }
  });
  return secrets.length === 0 ? undefined : secrets;
}

/**
 * `SLACK_APP_TOKEN` and YAML `providers.slack.appToken`: an app-level token (`xapp-…`), the only kind
 * `apps.connections.open` accepts. The value is never echoed.
 */
export const slackAppToken: Parser<string> = (raw) =>
  raw.startsWith("xapp-")
    ? { ok: true, value: raw }
    : { ok: false, message: "expected an app-level token (starts with xapp-; value not shown)" };

/** Each provider's variables, for "is it configured at all" checks (`envProviderDeclared`). */
const providerEnvNames = {
  jira: ["JIRA_URL", "JIRA_TOKEN", "JIRA_EMAIL"],
  servicenow: ["SERVICENOW_INSTANCE", "SERVICENOW_USERNAME", "SERVICENOW_PASSWORD"],
} as const;

/**
 * True when any of the provider's variables is set: the provider was meant to be configured, so if
 * `parseProviders` left it out, its problems are already recorded.
 */
export function envProviderDeclared(env: Env, provider: keyof typeof providerEnvNames): boolean {
  return present(env, providerEnvNames[provider]).length > 0;
}

function parseJira(env: Env, problems: Problems): JiraProviderConfig | undefined {
  const url = envValue(env, "JIRA_URL", jiraUrl, problems);
  const token = envSecret(env, "JIRA_TOKEN", problems);
  const email = envValue(env, "JIRA_EMAIL", jiraEmail, problems);
  const set = present(env, providerEnvNames.jira);
  if (set.length === 0) return undefined;
  requireTogether(env, ["JIRA_URL", "JIRA_TOKEN"], set, problems);
  if (url === undefined || token === undefined) return undefined;
  return { url, token, ...(email !== undefined && { email }) };
}

function parseServiceNow(env: Env, problems: Problems): ServiceNowProviderConfig | undefined {
  const instanceUrl = envValue(env, "SERVICENOW_INSTANCE", serviceNowInstance, problems);
  const username = envValue(env, "SERVICENOW_USERNAME", (raw) => ({ ok: true, value: raw }), problems);
  const password = envSecret(env, "SERVICENOW_PASSWORD", problems);
  const names = providerEnvNames.servicenow;
  const set = present(env, names);
  if (set.length === 0) return undefined;
  requireTogether(env, names, set, problems);
  if (instanceUrl === undefined || username === undefined || password === undefined) return undefined;
  return { instanceUrl, username, password };
}

function parseZenBack(env: Env, problems: Problems): ZenBackProviderConfig | undefined {
  const url = envValue(env, "ZEN_BACK_URL", href(httpUrl), problems);
  const apiKey = envSecret(env, "ZEN_BACK_APIKEY", problems);
  const set = present(env, ["ZEN_BACK_URL", "ZEN_BACK_APIKEY"]);
  if (set.length === 0) return undefined;
  requireTogether(env, ["ZEN_BACK_URL"], set, problems);
  if (url === undefined) return undefined;
  return { url, ...(apiKey !== undefined && { apiKey }) };
}

function parseRedis(env: Env, problems: Problems): RedisProviderConfig | undefined {
  const url = envValue(env, "REDIS_URL", href(urlWith(["redis:", "rediss:"])), problems);
  return url === undefined ? undefined : { url };
}

/**
 * `SERVICENOW_INSTANCE` and YAML `providers.servicenow.instance`: a host name (`acme.service-now.com`,
 * https implied) or a full http(s) URL (test servers), normalized into `instanceUrl`.
 */
export const serviceNowInstance: Parser<string> = (raw) => {
  if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(raw)) return { ok: true, value: `https://${raw}` };
  if (raw.includes("://")) return href(httpUrl)(raw);
  return { ok: false, message: "expected a host name (acme.service-now.com) or an http(s) URL" };
};

/** `JIRA_URL` and YAML `providers.jira.url`: an http(s) URL, normalized (`href`). */
export const jiraUrl: Parser<string> = href(httpUrl);

/** `JIRA_EMAIL` and YAML `providers.jira.email`: the Atlassian account the token belongs to. */
export const jiraEmail: Parser<string> = (raw) =>
  /^[^\s@]+@[^\s@]+$/.test(raw)
    ? { ok: true, value: raw }
    : { ok: false, message: "expected an e-mail address (the Atlassian account of the token)" };

function href(parser: Parser<URL>): Parser<string> {
  return (raw): Parsed<string> => {
    const url = parser(raw);
    return url.ok ? { ok: true, value: url.value.href } : url;
  };
}

/** The names among `names` that are set (non-empty), in order. */
function present(env: Env, names: readonly string[]): string[] {
  return names.filter((name) => (env[name] ?? "").trim() !== "");
}

/** Each of `required` that is unset while another of the provider's variables is set is a problem. */
function requireTogether(
  env: Env,
  required: readonly string[],
  set: readonly string[],
  problems: Problems,
): void {
  for (const name of required) {
    if ((env[name] ?? "").trim() !== "") continue;
    problems.add(
      envLocation(name),
      `is required when ${set.join(", ")} ${set.length === 1 ? "is" : "are"} set`,
    );
  }
}
