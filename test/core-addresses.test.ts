// Pure: which addresses a callback may reach (core/addresses.ts) and what an attempt's outcome
// does to its delivery (core/callbacks.ts).
import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../src/core/addresses.js';
import { decideDeliveryAttempt } from '../src/core/callbacks.js';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['0:0:0:0:0:ffff:169.254.1.1', 'link_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fc00::1', 'unique_local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['1::2::3', 'invalid'],
    ['256.1.1.1', 'invalid'],
    ['example.com', 'invalid'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('decideDeliveryAttempt', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');
  it('a 2xx is delivered; a failure backs off 1 s doubling to 10 min with full jitter; the last attempt fails it', () => {
    expect(decideDeliveryAttempt(3, { statusCode: 204, error: null }, 12, () => 0.5, now)).toEqual({
      status: 'delivered',
      last_status_code: 204,
      last_error: null,
      next_attempt_at: now,
      delivered_at: now,
    });
    const delays = [1, 2, 3, 10, 11].map(
      (n) => decideDeliveryAttempt(n, { statusCode: 503, error: 'HTTP 503' }, 12, () => 0.999999, now).next_attempt_at.getTime() - now.getTime(),
    );
    expect(delays).toEqual([999, 1999, 3999, 511_999, 599_999]);
    expect(decideDeliveryAttempt(1, { statusCode: null, error: 'connection refused' }, 12, () => 0, now)).toMatchObject({
      status: 'pending',
      last_error: 'connection refused',
      last_status_code: null,
    });
    expect(decideDeliveryAttempt(12, { statusCode: 500, error: 'HTTP 500' }, 12, () => 0.5, now)).toMatchObject({
      status: 'failed',
      last_status_code: 500,
      last_error: 'HTTP 500',
    });
  });
});
