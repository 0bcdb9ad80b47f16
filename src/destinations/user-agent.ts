/** The `user-agent` every outbound request carries, so receivers can tell our traffic apart. */
import pkg from "../../package.json" with { type: "json" };

export const zenUserAgent = `zen-integrations/${pkg.version}`;
