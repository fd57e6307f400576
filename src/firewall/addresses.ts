// The namespace's addresses as publishPort checks them (a target must lie in
// one of its networks, a hostIp must be one of its addresses), kept current
// from the kernel's address notifications instead of one dump per call: a
// dump when first asked, then RTNLGRP_IPV4_IFADDR / RTNLGRP_IPV6_IFADDR.
//
// A check the view fails is repeated on a fresh dump before it is reported:
// an address added just before the call may still be on its way, so the view
// never refuses what the kernel has. It may accept for the few µs an
// address removal's notification is in flight: the same window a dump read
// before the commit leaves.
import { Subscription } from '../engine.js';
import { decodeAddress, listAddresses, type Address } from '../address.js';
import type { Namespace } from '../namespace.js';
import { NETLINK_ROUTE, type Message } from '../wire/netlink.js';
import { RTM_DELADDR, RTM_NEWADDR, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR } from '../wire/rtnetlink.js';
import { inPrefix, prefixMatcher } from './args.js';

export class AddressView {
  private sub?: Subscription;
  private addrs = new Map<string, Address>();
  /** Events that arrived while a dump was read: applied on top of it, in order. */
  private queued: Message[] | undefined;
  private loading?: Promise<void>;
  /** The view cannot be trusted (not read yet, or events were lost). */
  private stale = true;
  /** The kernel dropped notifications (receive buffer overrun) since the last read began. */
  private lost = false;
  private matcher?: (address: string) => boolean;

  /** Whether the view is read and kept up to date (else read() first). */
  get current(): boolean {
    return !this.stale;
  }

  /** The current addresses (read once, then kept up to date). */
  async read(ns: Namespace): Promise<Iterable<Address>> {
    if (this.stale) await this.load(ns);
    return this.addrs.values();
  }

  /** Reads the kernel again (a refusal is confirmed on fresh data): a read already under way may predate what the caller needs to see. */
  async reload(ns: Namespace): Promise<Iterable<Address>> {
    if (this.loading) await this.loading.catch(() => {});
    this.stale = true;
    return this.read(ns);
  }

  /** Whether address lies in the prefix of an address on a non-loopback interface. */
  inNetwork(address: string): boolean {
    this.matcher ??= prefixMatcher([...this.addrs.values()].filter((a) => a.ifindex !== 1));
    return this.matcher(address);
  }

  /** Whether ip is an address of the namespace (or in loopback's prefix, e.g. 127.0.0.2). */
  isLocal(ip: string): boolean {
    for (const a of this.addrs.values()) if (a.address === ip || (a.ifindex === 1 && inPrefix(ip, a.address, a.prefix))) return true;
    return false;
  }

  close(): void {
    this.sub?.close();
    this.sub = undefined;
    this.stale = true;
  }

  private load(ns: Namespace): Promise<void> {
    return (this.loading ??= this.fetch(ns).finally(() => (this.loading = undefined)));
  }

  private async fetch(ns: Namespace): Promise<void> {
    if (!this.sub) {
      // Subscribed before the dump: nothing that changes after it is missed.
      this.sub = new Subscription(NETLINK_ROUTE, [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR], (ms) => this.onEvents(ms), () => (this.stale = this.lost = true), {
        nsFd: ns.nsFd,
        ref: false,
      });
      try {
        await this.sub.ready;
      } catch (err) {
        this.sub = undefined;
        throw err;
      }
    }
    this.queued = [];
    this.lost = false;
    try {
      const list = await listAddresses({ ns });
      this.addrs = new Map(list.map((a) => [keyOf(a), a]));
      this.matcher = undefined;
      // Events lost while the dump was read leave the view to be read again.
      this.stale = this.lost;
      const late = this.queued;
      this.queued = undefined;
      this.apply(late);
    } finally {
      this.queued = undefined;
    }
  }

  private onEvents(ms: Message[]): void {
    if (this.queued) this.queued.push(...ms);
    else this.apply(ms);
  }

  private apply(ms: Message[]): void {
    for (const m of ms) {
      if (m.type !== RTM_NEWADDR && m.type !== RTM_DELADDR) continue;
      const a = decodeAddress(m.payload);
      if (m.type === RTM_NEWADDR) this.addrs.set(keyOf(a), a);
      else this.addrs.delete(keyOf(a));
      this.matcher = undefined;
    }
  }
}

function keyOf(a: Address): string {
  return `${a.ifindex}|${a.cidr}`;
}

// A view holds no reference to its handle (its subscription is reachable
// from the engine's table): a handle dropped without close() closes the
// view's socket when collected, which would otherwise keep the namespace alive.
const VIEW = Symbol('address view');

/** The address view of a namespace handle; closed with it. */
export function addressView(ns: Namespace): AddressView {
  return ns.holding(VIEW, () => new AddressView(), (view) => view.close());
}
