/**
 * The `Queue.onEnqueued` listeners of an adapter: wake-up hints after a commit that added ready jobs.
 * Shared by every queue adapter so they subscribe and notify alike.
 */
export class WakeListeners {
  private readonly listeners = new Set<() => void>();

  /** Subscribes; returns the unsubscribe function. */
  add(listener: () => void): () => void {
    // Wrapped so the same function may subscribe twice and each unsubscribe removes one.
    const entry = () => listener();
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A wake-up hint must not fail the call that already committed, nor starve other listeners.
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
