// NF_NAT_RANGE_* (linux/netfilter/nf_nat.h): flags shared by nat, masq and redir.
import { Flags } from './common.js';

export const NF_NAT_RANGE_MAP_IPS = 1 << 0;
export const NF_NAT_RANGE_PROTO_SPECIFIED = 1 << 1;
export const NF_NAT_RANGE_PROTO_RANDOM = 1 << 2;
export const NF_NAT_RANGE_PERSISTENT = 1 << 3;
export const NF_NAT_RANGE_PROTO_RANDOM_FULLY = 1 << 4;
export const NF_NAT_RANGE_PROTO_OFFSET = 1 << 5;
export const NF_NAT_RANGE_NETMAP = 1 << 6;

export type NatFlag = 'map_ips' | 'proto_specified' | 'random' | 'persistent' | 'fully_random' | 'proto_offset' | 'netmap';

export const natFlags = new Flags<NatFlag>('nat flag', {
  map_ips: NF_NAT_RANGE_MAP_IPS,
  proto_specified: NF_NAT_RANGE_PROTO_SPECIFIED,
  random: NF_NAT_RANGE_PROTO_RANDOM,
  persistent: NF_NAT_RANGE_PERSISTENT,
  fully_random: NF_NAT_RANGE_PROTO_RANDOM_FULLY,
  proto_offset: NF_NAT_RANGE_PROTO_OFFSET,
  netmap: NF_NAT_RANGE_NETMAP,
});
