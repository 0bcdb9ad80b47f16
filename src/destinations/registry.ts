/**
 * All configured destinations, built once from the compiled config, looked up by (tenant, id).
 * Owns their lifecycle: `close()` at shutdown closes every one.
 */
import type { Config, DestinationConfig } from "../config/config.ts";
import type { Destination, DestinationLookup } from "./destination.ts";

/** Builds one destination from its config (see `createDestination`). */
export type DestinationFactory = (config: DestinationConfig) => Destination;

function keyOf(tenant: string, id: string): string {
  // Tenant ids cannot contain NUL, so the pair maps to one key only.
  return `${tenant}\u0000${id}`;
}

export class DestinationRegistry implements DestinationLookup {
  private readonly byKey = new Map<string, Destination>();
  private closing: Promise<void> | undefined;

  /** @throws Error when two destinations share a tenant and id. */
  constructor(destinations: Iterable<Destination>) {
    for (const destination of destinations) {
      const key = keyOf(destination.tenant, destination.id);
      if (this.byKey.has(key)) {
        throw new Error(`duplicate destination ${destination.tenant}/${destination.id}`);
      }
      this.byKey.set(key, destination);
    }
  }

  /**
   * Builds every destination of every tenant with `create`. If one fails to build, the ones already
   * built are closed before the error propagates, so no connection pool leaks at a failed startup.
   */
  static async fromConfig(
    tenants: Config["tenants"],
    create: DestinationFactory,
  ): Promise<DestinationRegistry> {
    const built: Destination[] = [];
    try {
      for (const tenant of tenants.values()) {
        for (const config of tenant.destinations.values()) built.push(create(config));
      }
      return new DestinationRegistry(built);
    } catch (err) {
      await Promise.allSettled(built.map((d) => d.close()));
      throw err;
    }
  }

  get(tenant: string, id: string): Destination | undefined {
    return this.byKey.get(keyOf(tenant, id));
  }

  list(): readonly Destination[] {
    return [...this.byKey.values()];
  }

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Closes every destination (idempotent: later calls return the first call's promise).
   * @throws AggregateError listing the destinations whose close failed; the others are still closed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const all = this.list();
      const results = await Promise.allSettled(all.map((d) => d.close()));
      const failures = results.flatMap((r, i) =>
        r.status === "rejected" ? [{ destination: all[i], reason: r.reason as unknown }] : [],
      );
      if (failures.length > 0) {
        throw new AggregateError(
          failures.map((f) => f.reason),
          `failed to close ${failures.map((f) => `${f.destination?.tenant}/${f.destination?.id}`).join(", ")}`,
        );
      }
    })();
    return this.closing;
  }
}
