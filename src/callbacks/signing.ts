// Callback signatures (docs/callbacks.md): X-Dispatch-Signature-256 = "sha256=" + hex
// HMAC-SHA256(webhooks.secret, "<X-Dispatch-Timestamp>.<raw body>").
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signCallback(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does (README shows the same in a few lines of shell): constant-time compare. */
export function verifyCallback(secret: string, timestamp: string, body: string, signature: string): boolean {
  const want = Buffer.from(signCallback(secret, Number(timestamp), body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
