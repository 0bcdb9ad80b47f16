/**
 * Reads a response body we do not need, up to a byte cap, keeping only a short prefix. A receiver
 * that streams gigabytes (or forever) costs us `maxBytes` of reading, not memory or a stuck worker.
 */

export interface CappedBody {
  /** The first `keepBytes` bytes, decoded as UTF-8 (possibly cut mid-character). */
  readonly snippet: string;
  /** Bytes read (≤ maxBytes + one chunk). */
  readonly bytesRead: number;
  /** True when reading stopped at the cap; the stream was destroyed (its connection is not reused). */
  readonly truncated: boolean;
}

/**
 * @param body the response body (undici `BodyReadable`, or any async iterable of byte chunks with an
 *   optional `destroy`).
 * @throws whatever reading throws (abort, body timeout, reset); callers decide whether that matters.
 */
export async function readCappedBody(
  body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => unknown },
  maxBytes: number,
  keepBytes: number,
): Promise<CappedBody> {
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let bytesRead = 0;
  for await (const chunk of body) {
    bytesRead += chunk.byteLength;
    if (keptBytes < keepBytes) {
      const part = chunk.subarray(0, keepBytes - keptBytes);
      kept.push(part);
      keptBytes += part.byteLength;
    }
    if (bytesRead >= maxBytes) {
      body.destroy?.();
      return { snippet: Buffer.concat(kept).toString("utf8"), bytesRead, truncated: true };
    }
  }
  return { snippet: Buffer.concat(kept).toString("utf8"), bytesRead, truncated: false };
}
