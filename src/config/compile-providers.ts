/**
 * Compiles a tenant's `providers:` block: its own Jira and ServiceNow connections and its Slack app
 * (compile-slack.ts). Tokens and
 * passwords are only ever `env:`/`file:` references; URLs, e-mail and user names may be literal or
 * references. Values are checked with the same parsers as the `JIRA_*` / `SERVICENOW_*` env vars
 * (providers.ts), so both spellings normalize alike. A URL is never echoed: it may carry credentials.
 *
 * Tenant `default` falls back to the env connections for any provider it does not declare.
 */
import { resolveLiteralOrRef } from "./compile-common.ts";
import type { CompileContext, Connections, TenantProviderName } from "./compile-context.ts";
import { compileSlackProvider, envSlackConnection } from "./compile-slack.ts";
import type { JiraProviderConfig, ProvidersConfig, ServiceNowProviderConfig } from "./config.ts";
import type { Env } from "./env-schema.ts";
import { jiraProviderSchema, serviceNowProviderSchema, tenantProvidersSchema } from "./file-schema.ts";
import type { FieldPath, Problems } from "./problems.ts";
import { envProviderDeclared, jiraEmail, jiraUrl, serviceNowInstance } from "./providers.ts";
import { looksLikeSecretRef, resolveSecret, type SecretRef, type SecretSources } from "./secrets.ts";
import { type Parser, text } from "./values.ts";
import { parseNode } from "./zod-issues.ts";

/** No connections at all (a fresh object: the Config gets frozen). */
export function noConnections(): Connections {
  return { providers: {}, broken: new Set() };
}

/**
 * The `JIRA_*` / `SERVICENOW_*` connections parsed by `parseProviders`, as tenant `default` falls back
 * to them; a provider whose variables are set but did not parse is `broken`.
 */
export function envConnections(env: Env, providers: ProvidersConfig): Connections {
  // A broken `SLACK_*` fails loading by itself: nothing else names the env Slack app.
  const names = ["jira", "servicenow"] as const;
  const slack = envSlackConnection(providers.slack);
  return {
    providers: {
      ...(providers.jira && { jira: providers.jira }),
      ...(providers.servicenow && { servicenow: providers.servicenow }),
      ...(slack && { slack }),
    },
    broken: new Set(names.filter((name) => !providers[name] && envProviderDeclared(env, name))),
  };
}

/**
 * The tenant's `providers:` node (absent: none). Each block compiles on its own; a block that is
 * present but broken is recorded and listed in `broken`.
 */
export function compileTenantProviders(
  raw: unknown,
  path: FieldPath,
  ctx: CompileContext,
  problems: Problems,
): Connections {
  if (raw === undefined) return noConnections();
  const node = parseNode(tenantProvidersSchema, raw, path, problems);
  // Not a mapping at all: whatever it meant to declare is broken, and already recorded.
  if (!node) return { providers: {}, broken: new Set(["jira", "servicenow", "slack"]) };
  const broken = new Set<TenantProviderName>();
  const jira =
    node.jira === undefined
      ? undefined
      : compileJiraProvider(node.jira, [...path, "jira"], ctx.secrets, problems);
  if (node.jira !== undefined && !jira) broken.add("jira");
  const servicenow =
    node.servicenow === undefined
      ? undefined
      : compileServiceNowProvider(node.servicenow, [...path, "servicenow"], ctx.secrets, problems);
  if (node.servicenow !== undefined && !servicenow) broken.add("servicenow");
  const slack =
    node.slack === undefined
      ? undefined
      : compileSlackProvider(node.slack, [...path, "slack"], ctx.secrets, problems);
  if (node.slack !== undefined && !slack) broken.add("slack");
  return {
    providers: { ...(jira && { jira }), ...(servicenow && { servicenow }), ...(slack && { slack }) },
    broken,
  };
}

/**
 * `own`, with each provider it does not declare (neither compiled nor broken) taken from `fallback`:
 * how tenant `default` gets the env connections. The fallback's objects are shared, not copied, so
 * `tenant.providers.jira === config.providers.jira` tells an env connection apart.
 */
export function withFallback(own: Connections, fallback: Connections): Connections {
  const from = (name: TenantProviderName): Connections =>
    own.providers[name] !== undefined || own.broken.has(name) ? own : fallback;
  const jira = from("jira").providers.jira;
  const servicenow = from("servicenow").providers.servicenow;
  const slack = from("slack").providers.slack;
  const names: readonly TenantProviderName[] = ["jira", "servicenow", "slack"];
  return {
    providers: { ...(jira && { jira }), ...(servicenow && { servicenow }), ...(slack && { slack }) },
    broken: new Set(names.filter((name) => from(name).broken.has(name))),
  };
}

function compileJiraProvider(
  raw: unknown,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): JiraProviderConfig | undefined {
  const node = parseNode(jiraProviderSchema, raw, path, problems);
  if (!node) return undefined;
  const url = compileUrlValue(node.url, jiraUrl, [...path, "url"], sources, problems);
  const email =
    node.email === undefined
      ? undefined
      : compileValue(node.email, jiraEmail, [...path, "email"], sources, problems);
  const token = compileSecret(node.token, [...path, "token"], sources, problems);
  if (url === undefined || token === undefined || (node.email !== undefined && email === undefined)) {
    return undefined;
  }
  return { url, token, ...(email !== undefined && { email }) };
}

function compileServiceNowProvider(
  raw: unknown,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): ServiceNowProviderConfig | undefined {
  const node = parseNode(serviceNowProviderSchema, raw, path, problems);
  if (!node) return undefined;
  const instanceUrl = compileUrlValue(
    node.instance,
    serviceNowInstance,
    [...path, "instance"],
    sources,
    problems,
  );
  const username = compileValue(node.username, text, [...path, "username"], sources, problems);
  const password = compileSecret(node.password, [...path, "password"], sources, problems);
  if (instanceUrl === undefined || username === undefined || password === undefined) return undefined;
  return { instanceUrl, username, password };
}

/** A literal or referenced value checked by `parser` (whose messages never echo the input). */
function compileValue(
  raw: string,
  parser: Parser<string>,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): string | undefined {
  const value = resolveLiteralOrRef(raw, path, sources, problems);
  if (!value) return undefined;
  const parsed = parser(value.text);
  if (parsed.ok) return parsed.value;
  problems.at(path, value.fromRef ? `the referenced value: ${parsed.message}` : parsed.message);
  return undefined;
}

/** Like `compileValue` for URLs, refusing credentials written literally in the file. */
function compileUrlValue(
  raw: string,
  parser: Parser<string>,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): string | undefined {
  const url = compileValue(raw, parser, path, sources, problems);
  if (url === undefined || looksLikeSecretRef(raw)) return url;
  const parsed = new URL(url);
  if (parsed.username === "" && parsed.password === "") return url;
  problems.at(path, "must not carry credentials in the file; write the URL as env:NAME or file:/path");
  return undefined;
}

function compileSecret(
  ref: SecretRef,
  path: FieldPath,
  sources: SecretSources,
  problems: Problems,
): string | undefined {
  const resolved = resolveSecret(ref, sources);
  if (resolved.ok) return resolved.value;
  problems.at(path, resolved.message);
  return undefined;
}
