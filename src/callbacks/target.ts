// Where a callback may go (docs/callbacks.md, SSRF rules): an absolute http(s) URL whose host
// resolves only to public addresses (core/addresses.ts), unless the host is listed in
// webhooks.allowed_hosts. Checked at create (every address dns.lookup returns) and again at every
// send, inside the connection's own lookup, so a name that changed its answer since — DNS
// rebinding — is refused at the connect that would have used it.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { classifyAddress } from '../core/addresses.js';
import { DispatchError, ValidationError } from '../errors.js';

export class CallbackNotAllowedError extends DispatchError {
  constructor(message: string, details?: unknown) {
    super('callback_not_allowed', 400, message, details);
  }
}

/** Host names and IP literals exempt from the address check, compared lower-case without brackets. */
export type AllowedHosts = ReadonlySet<string>;

export const allowedHostSet = (hosts: readonly string[]): AllowedHosts => new Set(hosts.map(normaliseHost));

function normaliseHost(h: string): string {
  const l = h.trim().toLowerCase();
  return l.startsWith('[') && l.endsWith(']') ? l.slice(1, -1) : l;
}

/** Parse a callback URL: absolute http(s), no fragment surprises; throws ValidationError. */
export function parseCallbackUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ValidationError('callback_url must be an absolute http(s) URL', [{ field: 'callback_url', message: 'is not an absolute URL' }]);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ValidationError('callback_url must be an absolute http(s) URL', [{ field: 'callback_url', message: 'must use http or https' }]);
  }
  return u;
}

/** Why `address` may not be reached, or undefined when it may. */
function refusal(host: string, address: string): string | undefined {
  const kind = classifyAddress(address);
  return kind === 'public' ? undefined : `${host} resolves to ${address} (${kind.replace('_', '-')})`;
}

/**
 * Check a callback URL's host at create time: refused (400 callback_not_allowed) when it is, or
 * resolves to, a non-public address, or does not resolve at all — unless it is allowed.
 */
export { resolveAll };

export async function checkCallbackTarget(url: URL, allowed: AllowedHosts, resolve: (host: string) => Promise<string[]> = resolveAll): Promise<void> {
  await checkTarget(url, allowed, resolve, {
    unresolved: (host, details) => new CallbackNotAllowedError(`callback_url host ${host} does not resolve`, details),
    refused: (why, details) => new CallbackNotAllowedError(`callback_url is not allowed: ${why}; list the host in webhooks.allowed_hosts to allow it`, details),
  });
}

/** How a refused target is reported: the error of its field (callback_not_allowed, call_not_allowed). */
export interface TargetErrors {
  unresolved(host: string, details: unknown): Error;
  refused(why: string, details: unknown): Error;
}

/** The address check shared by callbacks and calls: refused when the host is, or resolves to, a non-public address or does not resolve — unless allowed. */
export async function checkTarget(
  url: URL,
  allowed: AllowedHosts,
  resolve: (host: string) => Promise<string[]> = resolveAll,
  errors: TargetErrors,
): Promise<void> {
  const host = normaliseHost(url.hostname);
  if (allowed.has(host)) return;
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw errors.unresolved(host, { host, reason: (err as NodeJS.ErrnoException).code ?? 'unresolved' });
    }
  }
  for (const a of addresses) {
    const why = refusal(host, a);
    if (why) throw errors.refused(why, { host, address: a });
  }
}

async function resolveAll(host: string): Promise<string[]> {
  return (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/** The refusal of a send whose URL names a non-public IP literal (no lookup happens for those), else undefined. */
export function literalRefusal(url: URL, allowed: AllowedHosts): string | undefined {
  const host = normaliseHost(url.hostname);
  if (allowed.has(host) || !isIP(host)) return undefined;
  return refusal(host, host);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect (undici's connect options) that resolves every address and fails the
 * connection when any is refused: the address connected to is the one that was checked.
 */
export function guardedLookup(allowed: AllowedHosts, what = 'callback') {
  return (hostname: string, options: LookupAllOptions | Record<string, unknown>, callback: LookupCallback): void => {
    const host = normaliseHost(hostname);
    dnsLookup(hostname, { ...(options as object), all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowed.has(host)) {
        for (const a of addresses) {
          const why = refusal(host, a.address);
          if (why) return callback(Object.assign(new Error(`${what} not allowed: ${why}`), { code: 'ECALLBACKNOTALLOWED' }), []);
        }
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
