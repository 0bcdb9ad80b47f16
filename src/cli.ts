/**
 * `zen`: the command line. Each command loads the config once (exit 2 when invalid) and calls into
 * src/cli/*; this file only declares the commands.
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { configErrorExitCode, loadConfigOrExit } from "./cli/load.ts";
import {
  dryRunRedaction,
  policyFor,
  policyLine,
  type RedactFormat,
  redactFormats,
} from "./cli/redact-command.ts";
import { serveCommand } from "./cli/serve-command.ts";
import { buildSignedCurl } from "./cli/sign-command.ts";
import { runSink } from "./cli/sink-command.ts";
import { dlqList, dlqShow, type FilterOptions, toFilter, trace, withStores } from "./cli/store-commands.ts";
import { checkConfig } from "./config/check-config.ts";
import { ZenError } from "./domain/errors.ts";

const print = (line: string) => process.stdout.write(`${line}\n`);

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer ${min}–${max}`);
    return n;
  };
}

function fail(message: string, code = 1): never {
  process.stderr.write(`zen: ${message}\n`);
  process.exit(code);
}

function withFilterOptions(command: Command): Command {
  return command
    .option("--tenant <id>", "only this tenant")
    .option("--destination <id>", "only this destination")
    .option("--source <id>", "only this source")
    .option("--reason <reason>", "only this DLQ reason");
}

const program = new Command()
  .name("zen")
  .description("Zen Integrations: verified webhook intake, durable queue, reliable delivery")
  .showHelpAfterError();

program
  .command("serve", { isDefault: true })
  .description("run intake and delivery workers (HTTP on PORT)")
  .action(() => serveCommand({ intake: true, workers: true }));

program
  .command("worker")
  .description("run delivery workers only (with /health, /ready, /metrics)")
  .action(() => serveCommand({ intake: false, workers: true }));

program
  .command("config")
  .description("configuration tools")
  .command("check")
  .description("validate env + ZEN_CONFIG and print a summary (exit 2 and one line per problem if invalid)")
  .action(() => {
    const result = checkConfig({ env: process.env });
    if (!result.ok) {
      for (const line of result.problems) process.stderr.write(`${line}\n`);
      process.exit(configErrorExitCode);
    }
    for (const line of result.summary) print(line);
    print("configuration is valid");
  });

program
  .command("sign")
  .description("print a curl command that posts a correctly signed request to a configured source")
  .requiredOption("--tenant <id>", "tenant id")
  .requiredOption("--source <id>", "source id")
  .option("--data <json>", "request body (default {})")
  .option("--file <path>", "read the body from a file (- for stdin)")
  .option("--event-id <id>", "event/message id for schemes that carry one")
  .option("--type <type>", "event type, for sources that read it from a header (e.g. X-GitHub-Event)")
  .option("--url <base>", "service base URL (default http://localhost:PORT)")
  .option("--secret-index <n>", "sign with the n-th secret of the source (rotation)", integer(0, 100), 0)
  .action(
    (options: {
      tenant: string;
      source: string;
      data?: string;
      file?: string;
      eventId?: string;
      type?: string;
      url?: string;
      secretIndex: number;
    }) => {
      const config = loadConfigOrExit(process.env);
      try {
        print(buildSignedCurl(config, options, Date.now()));
      } catch (err) {
        fail((err as Error).message);
      }
    },
  );

const dlq = program.command("dlq").description("the dead-letter queue (reads the store in ZEN_DATA_DIR)");

withFilterOptions(dlq.command("ls"))
  .description("list entries, newest first")
  .option("--limit <n>", "page size", integer(1, 500), 50)
  .option("--cursor <cursor>", "next page")
  .action(async (options: FilterOptions & { limit: number; cursor?: string }) => {
    const config = loadConfigOrExit(process.env);
    await withStores(config, (stores) =>
      dlqList(stores, toFilter(options), options.limit, options.cursor, print),
    );
  });

dlq
  .command("show <id>")
  .description("one entry with its event")
  .action(async (id: string) => {
    const config = loadConfigOrExit(process.env);
    const found = await withStores(config, (stores) => dlqShow(stores, id, print));
    if (!found) fail(`no DLQ entry ${id}`);
  });

withFilterOptions(dlq.command("replay [id]"))
  .description("requeue one entry, or every entry matching the filters (--all for everything)")
  .option("--all", "replay every entry")
  .action(async (id: string | undefined, options: FilterOptions & { all?: boolean }) => {
    const config = loadConfigOrExit(process.env);
    const filter = toFilter(options);
    if (!id && Object.keys(filter).length === 0 && !options.all) fail("give an id, filters, or --all");
    const n = await withStores(config, (stores) => stores.queue.replayDlq(id ? { id } : { filter }));
    print(`replayed ${n}`);
  });

withFilterOptions(dlq.command("purge [id]"))
  .description("delete one entry, or every entry matching the filters (--all for everything)")
  .option("--all", "purge every entry")
  .action(async (id: string | undefined, options: FilterOptions & { all?: boolean }) => {
    const config = loadConfigOrExit(process.env);
    const filter = toFilter(options);
    if (!id && Object.keys(filter).length === 0 && !options.all) fail("give an id, filters, or --all");
    const n = await withStores(config, (stores) => stores.queue.purgeDlq(id ? { id } : { filter }));
    print(`purged ${n}`);
  });

program
  .command("trace <eventId>")
  .description("where an event is and why: routes, attempts, DLQ")
  .option("--tenant <id>", "tenant (default: search every tenant)")
  .action(async (eventId: string, options: { tenant?: string }) => {
    const config = loadConfigOrExit(process.env);
    const found = await withStores(config, (stores) => trace(config, stores, eventId, options.tenant, print));
    if (!found) fail(`no event ${eventId} (unknown, or its trail has expired)`);
  });

program
  .command("redact [file]")
  .description(
    "dry run: redact a document (stdin, or a file) with a tenant's policy; the result on stdout, what was redacted on stderr",
  )
  .option("--tenant <id>", "whose policy (default: tenant default, else the default policy)")
  .option(
    "--format <format>",
    "json, yaml or text (default json; input that does not parse is redacted as text)",
    "json",
  )
  .action((file: string | undefined, options: { tenant?: string; format: string }) => {
    if (!redactFormats.includes(options.format as RedactFormat)) {
      fail(`--format must be one of ${redactFormats.join(", ")}`);
    }
    const config = loadConfigOrExit(process.env);
    let chosen: ReturnType<typeof policyFor>;
    try {
      chosen = policyFor(config, options.tenant);
    } catch (err) {
      fail((err as Error).message);
    }
    const input = readFileSync(file === undefined || file === "-" ? 0 : file, "utf8");
    const result = dryRunRedaction(input, chosen.policy, options.format as RedactFormat);
    process.stdout.write(result.output);
    process.stderr.write(`${[policyLine(chosen.source, chosen.policy), ...result.report].join("\n")}\n`);
  });

program
  .command("sink")
  .description("a local receiver that prints deliveries and checks their Standard Webhooks signature")
  .option("--port <port>", "port", integer(0, 65535), 9000)
  .option("--host <host>", "address", "127.0.0.1")
  .option("--status <code>", "answer with this status (e.g. 503 to watch retries)", integer(200, 599), 200)
  .action(async (options: { port: number; host: string; status: number }) => {
    await runSink({ ...options, secret: process.env.SINK_SECRET, write: print });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Expected failures (a bad --cursor, a missing store, a store from a newer build) are one line and
  // exit 1; anything else is a bug and keeps its stack trace.
  if (err instanceof ZenError) fail(err.message);
  throw err;
}
