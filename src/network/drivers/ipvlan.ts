// ipvlan networks (`docker network create -d ipvlan -o parent=eth0 -o ipvlan_mode=l2|l3`):
// like macvlan, but every endpoint shares the parent's MAC; in l3 mode the
// parent routes between its endpoints and the LAN (no broadcast domain).
// Same anchor, tags and discovery as macvlan (see macvlan.ts). A kernel
// built without ipvlan (like the one this was developed on) refuses
// createNetwork with NetlinkError EOPNOTSUPP naming the missing kind, before
// anything is left behind.
import { createIpvlan } from '../../link-kinds/index.js';
import * as validate from '../../validate.js';
import { IPVLAN_FLAGS, IPVLAN_MODES, type IpvlanFlag, type IpvlanMode } from '../../wire/link-kinds/ipvlan.js';
import { StackedDriver } from './macvlan.js';
import { registerNetworkDriver } from './registry.js';

registerNetworkDriver(
  new StackedDriver({
    kind: 'ipvlan',
    ownMac: false,
    readOptions(r) {
      r.out.mode = r.string(['mode', 'ipvlan_mode'], (v, arg) => validate.oneOf(v, IPVLAN_MODES, arg)) ?? 'l2';
      r.out.flag = r.string(['flag', 'ipvlan_flag'], (v, arg) => validate.oneOf(v, Object.keys(IPVLAN_FLAGS) as IpvlanFlag[], arg)) ?? 'bridge';
    },
    create: (o) =>
      createIpvlan({
        ns: o.ns,
        parentNs: o.parentNs,
        parent: o.parent,
        name: o.name,
        mode: o.options.mode as IpvlanMode,
        flag: o.options.flag as IpvlanFlag,
        linkGroup: o.linkGroup,
        up: o.up,
        ...(o.alias !== undefined ? { alias: o.alias } : {}),
      }),
  }),
);
