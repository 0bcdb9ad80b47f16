/**
 * Deep immutability for the compiled Config. `Object.freeze` does not stop `Map.prototype.set`, so
 * maps are exposed as `FrozenMap`: a read-only view over a private Map that has no mutating methods at
 * all (calling `set` through a cast throws a TypeError, and `Map.prototype.set.call` on it throws
 * too, because it is not a Map). Consumers see it as `ReadonlyMap`; `instanceof Map` is false.
 */

/** A `ReadonlyMap` whose backing Map is unreachable, so nothing can mutate it after construction. */
export class FrozenMap<K, V> implements ReadonlyMap<K, V> {
  readonly #map: Map<K, V>;

  constructor(entries: Iterable<readonly [K, V]>) {
    this.#map = new Map(entries);
    Object.freeze(this);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#map) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[K, V]> {
    return this.#map.entries();
  }

  keys(): MapIterator<K> {
    return this.#map.keys();
  }

  values(): MapIterator<V> {
    return this.#map.values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#map.entries();
  }

  get [Symbol.toStringTag](): string {
    return "FrozenMap";
  }
}

/** Compiled artifacts `deepFreeze` leaves as they are (see `compiledArtifact`). */
const artifacts = new WeakSet<object>();

/**
 * Marks `value` as a compiled artifact that guards its own immutability (a compiled redaction
 * policy, a set of compiled templates): `deepFreeze` neither freezes nor walks it. Such objects hold
 * engine state (regular expressions, a LiquidJS instance, caches) that must not be frozen from the
 * outside; they expose no way to change what they compiled.
 */
export function compiledArtifact<T extends object>(value: T): T {
  artifacts.add(value);
  return value;
}

/**
 * Freezes `value` and everything reachable from it: plain objects, arrays, and the values of
 * FrozenMaps. Plain `Map`/`Set` instances are refused: they would stay mutable behind a frozen object.
 * Compiled artifacts (`compiledArtifact`) are left as they are.
 * @throws TypeError on a Map or Set (a programming error in the config compiler, not a user problem).
 */
export function deepFreeze<T>(value: T): T {
  freezeInto(value, new WeakSet());
  return value;
}

function freezeInto(value: unknown, seen: WeakSet<object>): void {
  if (value === null || typeof value !== "object" || seen.has(value) || artifacts.has(value)) return;
  seen.add(value);
  if (value instanceof FrozenMap) {
    for (const item of value.values()) freezeInto(item, seen);
    return;
  }
  if (value instanceof Map || value instanceof Set) {
    throw new TypeError("deepFreeze: use FrozenMap instead of a mutable Map or Set");
  }
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) freezeInto((value as Record<PropertyKey, unknown>)[key], seen);
}
