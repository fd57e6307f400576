// Change notifications: the rtnetlink multicast groups for links, addresses,
// routes and neighbours (and bridge FDB entries, which share the neighbour
// group), decoded into typed events. `ip monitor link address route neigh`.
import { EventEmitter } from 'node:events';
import { Subscription } from './engine.js';
import { NetlinkError } from './errors.js';
import { Namespace } from './namespace.js';
import { decodeAddress, type Address } from './address.js';
import { familyNumber, type Family } from './rtnl.js';
import { decodeFdb, decodeNeighbour, type FdbEntry, type Neighbour } from './neighbour.js';
import { decodeRoute, type Route } from './route.js';
import * as validate from './validate.js';
import { AF_BRIDGE, AF_INET, AF_INET6 } from './wire/address.js';
import './wire/link-kinds/index.js';
import { decodeLink, type LinkMessage } from './wire/link.js';
import { NETLINK_ROUTE, type Message } from './wire/netlink.js';
import {
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELNEIGH,
  RTM_DELROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWNEIGH,
  RTM_NEWROUTE,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_LINK,
  RTNLGRP_NEIGH,
} from './wire/rtnetlink.js';

export type EventAction = 'new' | 'del';

export interface LinkEvent {
  type: 'link';
  /** "new" also reports changes to an existing link (RTM_NEWLINK). */
  action: EventAction;
  link: LinkMessage;
  /** An AF_BRIDGE notification about a bridge port (its state travels in the link's raw IFLA_PROTINFO). */
  bridgePort?: true;
}
export interface AddressEvent {
  type: 'address';
  action: EventAction;
  address: Address;
}
export interface RouteEvent {
  type: 'route';
  action: EventAction;
  route: Route;
}
export interface NeighbourEvent {
  type: 'neighbour';
  action: EventAction;
  neighbour: Neighbour;
}
/** Bridge / vxlan forwarding-database change (AF_BRIDGE on the neighbour group). */
export interface FdbEvent {
  type: 'fdb';
  action: EventAction;
  fdb: FdbEntry;
}
/**
 * Events were lost: the kernel overran the socket's receive buffer (or this
 * consumer fell more than maxQueue events behind). Re-read the state you
 * track (listAddresses, listRoutes, …); later events keep arriving.
 */
export interface ResyncEvent {
  type: 'resync';
  error: NetlinkError;
}

export type NetEvent = LinkEvent | AddressEvent | RouteEvent | NeighbourEvent | FdbEvent | ResyncEvent;

export interface WatchOptions {
  ns?: Namespace;
  /** Each defaults to false; when none of the four is set, all four are watched. */
  links?: boolean;
  addresses?: boolean;
  routes?: boolean;
  /** ARP/NDP entries and bridge FDB entries (one kernel group). */
  neighbours?: boolean;
  /** Limit addresses and routes to one family (groups are per family); default both. */
  family?: Family;
  /** Socket receive buffer in bytes (default 8 MiB): a bigger one survives bigger bursts. */
  rcvbuf?: number;
  /** Events an async iterator may fall behind before its backlog is dropped for a resync event (default 100,000). */
  maxQueue?: number;
}

const WATCH_OPTIONS = new Set(['ns', 'links', 'addresses', 'routes', 'neighbours', 'family', 'rcvbuf', 'maxQueue']);

/** Decodes one rtnetlink notification; undefined for message types this module does not watch. */
export function decodeEvent(m: Message): Exclude<NetEvent, ResyncEvent> | undefined {
  switch (m.type) {
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      const ev: LinkEvent = { type: 'link', action: m.type === RTM_NEWLINK ? 'new' : 'del', link: decodeLink(m.payload) };
      if (m.payload.length > 0 && m.payload[0] === AF_BRIDGE) ev.bridgePort = true;
      return ev;
    }
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return { type: 'address', action: m.type === RTM_NEWADDR ? 'new' : 'del', address: decodeAddress(m.payload) };
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      return { type: 'route', action: m.type === RTM_NEWROUTE ? 'new' : 'del', route: decodeRoute(m.payload) };
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH: {
      const action = m.type === RTM_NEWNEIGH ? 'new' : 'del';
      if (m.payload.length > 0 && m.payload[0] === AF_BRIDGE) return { type: 'fdb', action, fdb: decodeFdb(m.payload) };
      return { type: 'neighbour', action, neighbour: decodeNeighbour(m.payload) };
    }
    default:
      return undefined;
  }
}

/** One async iterator's backlog. */
class Backlog {
  items: NetEvent[] = [];
  head = 0;
  error?: unknown;
  done = false;
  wake?: () => void;

  push(ev: NetEvent, max: number): void {
    if (this.items.length - this.head >= max) {
      this.items = [];
      this.head = 0;
      ev = {
        type: 'resync',
        error: new NetlinkError(105 /* ENOBUFS */, 'receive events', {
          kernelMessage: `the consumer fell ${max} events behind; its backlog was dropped (resync needed)`,
        }),
      };
    }
    this.items.push(ev);
    this.notify();
  }

  shift(): NetEvent | undefined {
    if (this.head === this.items.length) return undefined;
    const ev = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return ev;
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Listening to one of these means consuming by listener: the first iterator then need not keep what came before it. */
const DATA_EVENTS = new Set<string | symbol>(['event', 'link', 'address', 'route', 'neighbour', 'fdb']);

/**
 * A live subscription. Both an EventEmitter — 'event' for every event, and
 * one event per type ('link', 'address', 'route', 'neighbour', 'fdb',
 * 'resync'), plus 'error' for a message that fails to decode and 'close' —
 * and an async iterable of the same events. The first iterator sees every
 * event since watch() resolved, unless a listener for 'event' or a data
 * type was attached before it; later iterators start when created. Leaving a for-await loop
 * closes the watcher. Keeps the process alive until closed (see unref()).
 */
export class Watcher extends EventEmitter {
  readonly ns: Namespace;
  private readonly sub: Subscription;
  private readonly backlogs = new Set<Backlog>();
  /** Holds events from subscription until the first iterator adopts it (or a listener is attached first). */
  private initial?: Backlog = new Backlog();
  private readonly maxQueue: number;
  private closedFlag = false;

  /** @internal use watch() */
  constructor(ns: Namespace, groups: number[], rcvbuf: number, maxQueue: number) {
    super();
    this.ns = ns;
    this.maxQueue = maxQueue;
    this.backlogs.add(this.initial!);
    this.on('newListener', (name: string | symbol) => {
      if (this.initial && DATA_EVENTS.has(name)) {
        this.backlogs.delete(this.initial);
        this.initial = undefined;
      }
    });
    this.sub = new Subscription(
      NETLINK_ROUTE,
      groups,
      (messages) => this.deliver(messages),
      (error) => this.dispatch({ type: 'resync', error }),
      { nsFd: ns.nsFd, rcvbuf },
    );
  }

  /** @internal */
  get ready(): Promise<void> {
    return this.sub.ready;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private deliver(messages: Message[]): void {
    for (const m of messages) {
      let ev: NetEvent | undefined;
      try {
        ev = decodeEvent(m);
      } catch (e) {
        this.fail(e);
        continue;
      }
      if (ev) this.dispatch(ev);
      if (this.closedFlag) return;
    }
  }

  private dispatch(ev: NetEvent): void {
    if (this.closedFlag) return;
    for (const b of this.backlogs) b.push(ev, this.maxQueue);
    this.emit(ev.type, ev);
    this.emit('event', ev);
  }

  private fail(e: unknown): void {
    for (const b of this.backlogs) {
      b.error = e;
      b.notify();
    }
    // An unheard 'error' throws, as EventEmitter does, unless an iterator received it.
    if (this.listenerCount('error') > 0 || this.backlogs.size === 0) this.emit('error', e);
  }

  /** Stops delivery: no event is emitted after this returns; iterators finish. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.sub.close();
    for (const b of this.backlogs) {
      b.done = true;
      b.notify();
    }
    this.backlogs.clear();
    this.emit('close');
  }

  /** Lets the process exit while watching. */
  unref(): this {
    this.sub.unref();
    return this;
  }

  ref(): this {
    this.sub.ref();
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<NetEvent> {
    let b: Backlog;
    if (this.initial) {
      b = this.initial;
      this.initial = undefined;
    } else {
      b = new Backlog();
      if (this.closedFlag) b.done = true;
      else this.backlogs.add(b);
    }
    const it: AsyncIterableIterator<NetEvent> = {
      next: async (): Promise<IteratorResult<NetEvent>> => {
        for (;;) {
          const ev = b.shift();
          if (ev) return { value: ev, done: false };
          if (b.error !== undefined) {
            const e = b.error;
            b.error = undefined;
            throw e;
          }
          if (b.done) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (b.wake = resolve));
        }
      },
      return: async (): Promise<IteratorResult<NetEvent>> => {
        this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
}

/**
 * Subscribes to change notifications in a namespace. Resolves once the
 * kernel has the subscription, so every change made after the promise
 * resolves is reported. Equivalent: `ip monitor link address route neigh`
 * (and `bridge monitor fdb`).
 *
 *     const w = await watch({ addresses: true, routes: true });
 *     for await (const ev of w) if (ev.type === 'address') console.log(ev.action, ev.address.cidr);
 */
export async function watch(opts: WatchOptions = {}): Promise<Watcher> {
  validate.options(opts, WATCH_OPTIONS, 'watch');
  const ns = Namespace.of(opts.ns);
  for (const k of ['links', 'addresses', 'routes', 'neighbours'] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new TypeError(`${k} must be a boolean`);
  }
  const family = familyNumber(opts.family);
  const rcvbuf = opts.rcvbuf === undefined ? 0 : validate.uint(opts.rcvbuf, 'rcvbuf', 0x7fffffff, 1);
  const maxQueue = opts.maxQueue === undefined ? 100_000 : validate.uint(opts.maxQueue, 'maxQueue', 0x7fffffff, 1);
  const all = !opts.links && !opts.addresses && !opts.routes && !opts.neighbours;
  const v4 = family !== AF_INET6;
  const v6 = family !== AF_INET;
  const groups: number[] = [];
  if (all || opts.links) groups.push(RTNLGRP_LINK);
  if (all || opts.addresses) {
    if (v4) groups.push(RTNLGRP_IPV4_IFADDR);
    if (v6) groups.push(RTNLGRP_IPV6_IFADDR);
  }
  if (all || opts.routes) {
    if (v4) groups.push(RTNLGRP_IPV4_ROUTE);
    if (v6) groups.push(RTNLGRP_IPV6_ROUTE);
  }
  if (all || opts.neighbours) groups.push(RTNLGRP_NEIGH);

  const w = new Watcher(ns, groups, rcvbuf, maxQueue);
  try {
    await w.ready;
  } catch (e) {
    w.close();
    if (e instanceof NetlinkError) throw new NetlinkError(e.errno, 'watch', { subject: ns.name, kernelMessage: e.kernelMessage });
    throw e;
  }
  return w;
}
