/**
 * The one error redaction raises at run time. Redaction fails closed: when anything goes wrong
 * inside the engine (a cyclic or too deep value, a getter that throws, a Kubernetes Secret it cannot
 * take apart), it throws this instead of returning data that may be half redacted. The delivery
 * worker sends the delivery to the DLQ with reason `redaction_failed`; nothing is sent.
 */
import { PermanentError } from "../domain/errors.ts";

/** Code `redaction_failed`; a `PermanentError`, so the delivery is dead-lettered at once. The message never quotes input data. */
export class RedactionError extends PermanentError {
  constructor(message: string) {
    super("redaction_failed", message);
    this.name = "RedactionError";
  }
}
