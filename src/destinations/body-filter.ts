/**
 * The last step before a request body leaves a provider client: it gets the serialized JSON and
 * returns the text to send. Destinations pass redaction layer 2 here (redaction/redact-delivery.ts),
 * so it sees the exact bytes that go out. It may throw; nothing is sent then.
 */
export type BodyFilter = (json: string) => string;
