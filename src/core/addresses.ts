// Which IP addresses a callback may reach (docs/callbacks.md, SSRF rules). Pure: parses the
// textual address itself, so the rule is tested without DNS.
//
// Refused: loopback, link-local, private (RFC 1918, shared 100.64/10), unique-local (fc00::/7),
// site-local (fec0::/10), unspecified, multicast and reserved ranges — IPv4, IPv6, and IPv4
// embedded in IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) classified as the
// IPv4 address they carry.

export type AddressClass = 'public' | 'loopback' | 'private' | 'link_local' | 'unique_local' | 'unspecified' | 'multicast' | 'reserved' | 'invalid';

/** Four octets, or undefined when `s` is not a dotted-quad IPv4 address. */
export function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Eight 16-bit groups, or undefined when `s` is not an IPv6 address (a zone id `%eth0` is ignored). */
export function parseIPv6(input: string): number[] | undefined {
  let s = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return undefined;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // An embedded IPv4 tail (::ffff:127.0.0.1) becomes its two hex groups.
    const v4 = parseIPv4(last);
    if (!v4) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === '' ? [] : h.split(':'));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  const parsed = (gs: string[]) => gs.map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const h = parsed(head);
  const r = parsed(rest);
  if ([...h, ...r].some((n) => Number.isNaN(n))) return undefined;
  const total = h.length + r.length;
  if (halves.length === 1) return total === 8 ? h : undefined;
  if (total > 7) return undefined;
  return [...h, ...new Array<number>(8 - total).fill(0), ...r];
}

function classifyV4(o: number[]): AddressClass {
  const [a, b, c] = [o[0]!, o[1]!, o[2]!];
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private';
  if (a === 169 && b === 254) return 'link_local';
  if (a === 192 && b === 0 && c === 0) return 'reserved';
  if (a === 198 && (b === 18 || b === 19)) return 'reserved';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  return 'public';
}

const v4Of = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];

function classifyV6(g: number[]): AddressClass {
  const zeroUntil = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroUntil(7) && g[7] === 1) return 'loopback';
  if (zeroUntil(5) && g[5] === 0xffff) return classifyV4(v4Of(g[6]!, g[7]!)); // ::ffff:a.b.c.d
  if (zeroUntil(6)) return 'reserved'; // ::a.b.c.d (deprecated IPv4-compatible)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(v4Of(g[6]!, g[7]!)); // NAT64
  if (g[0] === 0x2002) return classifyV4(v4Of(g[1]!, g[2]!)); // 6to4
  const first = g[0]!;
  if ((first & 0xffc0) === 0xfe80) return 'link_local';
  if ((first & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((first & 0xfe00) === 0xfc00) return 'unique_local';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}

/** The class of a textual IPv4 or IPv6 address; 'invalid' when it is neither. */
export function classifyAddress(address: string): AddressClass {
  const v4 = parseIPv4(address);
  if (v4) return classifyV4(v4);
  const v6 = parseIPv6(address);
  if (v6) return classifyV6(v6);
  return 'invalid';
}
