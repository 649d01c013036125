import { promises as dns, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Outbound URLs come from tenants, so a URL is a request to make *our* network connect somewhere.
 * Every destination is checked by address, after DNS, against the ranges an attacker would aim at
 * (OWASP SSRF Prevention Cheat Sheet). Host notation needs no special casing: WHATWG URL parsing
 * already turns `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` into `127.0.0.1`, and IPv6 into
 * its canonical form. The checked addresses are then pinned for the connection (`pinnedLookup`),
 * so a DNS answer that changes between check and connect (DNS rebinding) cannot redirect it.
 */

export class OutboundDestinationRefused extends Error {
  override readonly name = 'OutboundDestinationRefused';
}

export interface ResolvedTarget {
  url: URL;
  /** Hostname without IPv6 brackets, as the socket layer asks for it. */
  hostname: string;
  /** Every address the hostname resolved to; all of them passed the check. */
  addresses: LookupAddress[];
}

export interface AllowList {
  /** The CIDRs as configured, for messages and logs. */
  readonly cidrs: readonly string[];
  readonly list: BlockList;
}

/**
 * Resolves a hostname to all its addresses (injected in tests so nothing leaves the machine). The
 * signal, when given, is the caller's deadline; a resolver may use it to cancel (the lookup is
 * abandoned at the deadline either way).
 */
export type ResolveHost = (hostname: string, signal?: AbortSignal) => Promise<LookupAddress[]>;

export interface GuardOptions {
  resolve?: ResolveHost;
  /**
   * Deadline of the whole check (the delivery's timeout): when it fires, the DNS lookup is
   * abandoned and `assertUrlAllowed` rejects with the signal's reason (a `TimeoutError` for
   * `AbortSignal.timeout`), not with OutboundDestinationRefused.
   */
  signal?: AbortSignal;
}

type Family = 'ipv4' | 'ipv6';

/** Refused ranges; the more specific reason comes first (metadata before link-local). */
const REFUSED: ReadonlyArray<{ reason: string; cidrs: string[] }> = [
  { reason: 'a cloud metadata address', cidrs: ['169.254.169.254/32', 'fd00:ec2::254/128'] },
  { reason: 'unspecified', cidrs: ['0.0.0.0/8', '::/128'] },
  { reason: 'loopback', cidrs: ['127.0.0.0/8', '::1/128'] },
  { reason: 'private', cidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
  { reason: 'shared address space (carrier-grade NAT)', cidrs: ['100.64.0.0/10'] },
  { reason: 'link-local', cidrs: ['169.254.0.0/16', 'fe80::/10'] },
  { reason: 'unique-local', cidrs: ['fc00::/7'] },
  { reason: 'multicast', cidrs: ['224.0.0.0/4', 'ff00::/8'] },
  {
    reason: 'reserved',
    cidrs: ['192.0.0.0/24', '198.18.0.0/15', '240.0.0.0/4', '::/96', '100::/64', '2001:db8::/32'],
  },
];

const REFUSED_LISTS = REFUSED.map(({ reason, cidrs }) => ({ reason, list: blockListOf(cidrs) }));

/** `HOOKFLOW_OUTBOUND_ALLOW`: comma-separated CIDRs (a bare address means just that address). */
export function parseAllowList(csv: string): AllowList {
  const cidrs = csv
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  return { cidrs, list: blockListOf(cidrs) };
}

/**
 * Registration-time and delivery-time check: the URL must be http(s), carry no credentials, and
 * every address its host resolves to must be public or allowed. Returns the checked addresses.
 */
export async function assertUrlAllowed(
  url: string | URL,
  allow: AllowList,
  options: GuardOptions = {},
): Promise<ResolvedTarget> {
  const parsed = parseUrl(url);
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(hostname);
  const addresses = literal
    ? [{ address: hostname, family: literal }]
    : await resolveAll(hostname, options.resolve ?? systemResolve, options.signal);
  for (const { address } of addresses) {
    const reason = refusalReason(address, allow);
    if (reason) {
      const via = literal ? '' : ` (${hostname} resolves to ${address})`;
      throw new OutboundDestinationRefused(
        `refusing ${parsed.origin}: ${address} is ${reason}${via}; allow it with HOOKFLOW_OUTBOUND_ALLOW if intended`,
      );
    }
  }
  return { url: parsed, hostname, addresses };
}

/**
 * Why an address may not be contacted, or null when it may. IPv4 embedded in IPv6 (mapped
 * `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged as the IPv4 it reaches.
 */
export function refusalReason(address: string, allow: AllowList): string | null {
  const family = familyOf(address);
  if (!family) return 'not an IP address';
  if (allow.list.check(address, family)) return null;
  if (family === 'ipv6') {
    const embedded = embeddedIpv4(address);
    if (embedded) {
      const inner = refusalReason(embedded, allow);
      return inner ? `${inner} (IPv4 ${embedded} inside IPv6)` : null;
    }
  }
  for (const { reason, list } of REFUSED_LISTS) {
    if (list.check(address, family)) return reason;
  }
  if (address === '255.255.255.255') return 'broadcast';
  return null;
}

/**
 * A `lookup` for `net.connect` that answers only with the addresses `assertUrlAllowed` checked,
 * so the socket goes exactly where the check said it may (no second, rebindable DNS query).
 */
export function pinnedLookup(target: ResolvedTarget): LookupFunction {
  return (hostname, options, callback) => {
    if (hostname.replace(/^\[(.*)\]$/, '$1') !== target.hostname) {
      callback(new OutboundDestinationRefused(`unexpected lookup of ${hostname}`), '', 0);
      return;
    }
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const addresses = target.addresses.filter((entry) => wanted === 0 || entry.family === wanted);
    if (addresses.length === 0) {
      callback(new OutboundDestinationRefused(`no IPv${wanted} address checked for ${hostname}`), '', 0);
    } else if (options.all) {
      callback(null, addresses);
    } else {
      callback(null, addresses[0]!.address, addresses[0]!.family);
    }
  };
}

function parseUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundDestinationRefused(`refusing ${String(url)}: not a valid URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new OutboundDestinationRefused(`refusing ${parsed.protocol} URL: only http and https are delivered to`);
  }
  if (parsed.username || parsed.password) {
    // Credentials in a URL end up in logs and the database in clear text.
    throw new OutboundDestinationRefused(`refusing ${parsed.origin}: URLs with credentials are not accepted`);
  }
  return parsed;
}

async function resolveAll(hostname: string, resolve: ResolveHost, signal?: AbortSignal): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await untilAborted(resolve(hostname, signal), signal);
  } catch (error) {
    if (signal?.aborted && error === signal.reason) throw error;
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new OutboundDestinationRefused(`refusing ${hostname}: DNS lookup failed (${code})`);
  }
  if (addresses.length === 0) throw new OutboundDestinationRefused(`refusing ${hostname}: no DNS address`);
  return addresses;
}

/**
 * The promise, or a rejection with the signal's reason as soon as it aborts. getaddrinfo cannot be
 * cancelled (it runs on libuv's thread pool), so a lookup past the deadline is abandoned, not stopped.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** getaddrinfo, as `net.connect` itself would resolve (hosts file included). */
const systemResolve: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefixText, ...rest] = cidr.split('/');
    const family = familyOf(address);
    const bits = family === 'ipv4' ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (!family || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
      throw new Error(`invalid CIDR "${cidr}": expected an IP address with an optional /prefix`);
    }
    list.addSubnet(address, prefix, family);
  }
  return list;
}

function familyOf(address: string): Family | null {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : null;
}

/** The IPv4 address carried by a mapped, NAT64 or 6to4 IPv6 address, else null. */
function embeddedIpv4(address: string): string | null {
  const groups = ipv6Groups(address);
  if (!groups) return null;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const v4 = (high: number, low: number) => [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return null;
}

/** Eight 16-bit groups of an IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function ipv6Groups(address: string): number[] | null {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups =
    tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group)) ? groups : null;
}
