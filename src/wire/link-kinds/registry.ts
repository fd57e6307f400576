// The link-kind registry: each kind's file registers its IFLA_INFO_DATA table
// (and, for masters such as the bridge, its ports' IFLA_INFO_SLAVE_DATA
// table). The generic link codec looks kinds up here; it never names one.
import type { Writer } from '../netlink.js';
import type { Schema } from '../schema.js';

export interface LinkKindWire<Info = unknown, PortInfo = unknown> {
  /** IFLA_INFO_KIND, e.g. "vxlan". */
  readonly kind: string;
  /** IFLA_INFO_DATA attribute table. */
  readonly data?: Schema<any>;
  /** Writes IFLA_INFO_DATA's contents; defaults to data.encode (which refuses unknown keys). */
  encode?(w: Writer, info: any): void;
  /** Turns the table's output into the kind's typed info (names for enums, booleans for u8 flags). */
  decode?(raw: any): Info;
  /** IFLA_INFO_SLAVE_DATA table of a port enslaved to a master of this kind. */
  readonly portData?: Schema<any>;
  decodePort?(raw: any): PortInfo;
}

/** IFLA_INFO_KIND → decoded IFLA_INFO_DATA. Each kind file adds its entry by declaration merging. */
export interface LinkInfoByKind {}
/** IFLA_INFO_SLAVE_KIND → decoded IFLA_INFO_SLAVE_DATA (e.g. bridge → bridge port state). */
export interface PortInfoByKind {}

const kinds = new Map<string, LinkKindWire>();

export function registerLinkKind(def: LinkKindWire): void {
  if (kinds.has(def.kind)) throw new Error(`link kind ${JSON.stringify(def.kind)} registered twice`);
  kinds.set(def.kind, def);
}

export function linkKind(kind: string): LinkKindWire | undefined {
  return kinds.get(kind);
}

export function registeredLinkKinds(): string[] {
  return [...kinds.keys()].sort();
}
