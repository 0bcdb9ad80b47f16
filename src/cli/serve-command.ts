/** `zen serve` and `zen worker`: start the service and stop it gracefully on SIGTERM/SIGINT. */
import { createLogger } from "../observability/logger.ts";
import { type ServiceRoles, startService } from "../service.ts";
import { loadConfigOrExit } from "./load.ts";

export async function serveCommand(roles: ServiceRoles): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config.logLevel);
  const service = await startService(config, { logger, roles });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    logger.info({ signal }, "signal received");
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
