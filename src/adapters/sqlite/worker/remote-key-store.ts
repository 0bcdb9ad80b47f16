/** The KeyStore port, served by the SQLite store worker (see src/ports/key-store.ts). */
import type { KeyStore } from "../../../ports/key-store.ts";
import type { StoreChannel } from "./store-channel.ts";

/** Forwards every call to the `SqliteKeyStore` in the worker, so the semantics are that adapter's. */
export class RemoteKeyStore implements KeyStore {
  private readonly channel: StoreChannel;

  constructor(channel: StoreChannel) {
    this.channel = channel;
  }

  claim(key: string, ttlMs: number, value?: string): Promise<boolean> {
    return this.channel.call("keyStore", "claim", [key, ttlMs, value]);
  }

  get(key: string): Promise<string | undefined> {
    return this.channel.call("keyStore", "get", [key]);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.channel.call("keyStore", "set", [key, value, ttlMs]);
  }

  delete(key: string): Promise<boolean> {
    return this.channel.call("keyStore", "delete", [key]);
  }

  prune(): Promise<number> {
    return this.channel.call("keyStore", "prune", []);
  }

  /** Commits pending writes; the store file stays open (`close` of the stores). */
  async close(): Promise<void> {
    if (this.channel.alive) await this.channel.call("keyStore", "close", []);
  }
}
