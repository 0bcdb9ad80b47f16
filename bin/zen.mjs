#!/usr/bin/env node
// `zen` on the PATH (npm link / npx zen): runs the TypeScript CLI through tsx, no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
