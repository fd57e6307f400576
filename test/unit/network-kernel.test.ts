// The connect requests the network layer writes from templates must be the
// bytes the generic encoders write (checked against them, shape by shape).
import { describe, expect, it } from 'vitest';
import { Namespace } from '../../src/namespace.js';
import { prepareAlias, prepareInside, writeVethEndpoint } from '../../src/network/kernel.js';
import { nsFdOf } from '../../src/link.js';
import { IFF_UP, writeLinkMessage } from '../../src/wire/link.js';
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REQUEST, Writer } from '../../src/wire/netlink.js';
import { RTM_NEWLINK } from '../../src/wire/rtnetlink.js';

const INDEX_PLACEHOLDER = 0x7fffffff;

describe('the inside request of a connect', () => {
  const ns = Namespace.current();
  const shapes = [
    { cidr: '172.18.0.2/16', gateway: '172.18.0.1', loopback: false, up: true },
    { cidr: '172.18.3.200/16', gateway: '172.18.0.1', loopback: true, up: true },
    { cidr: '10.1.2.3/24', loopback: false, up: false },
    { cidr: '10.1.2.3/31', gateway: '10.1.2.2', loopback: true, up: true },
    { cidr: '192.0.2.7/32', loopback: false, up: true },
    { cidr: '10.255.255.254/8', gateway: '10.0.0.1', loopback: false, up: true },
  ];
  it('written from a template is byte for byte what the encoders write', () => {
    for (const shape of shapes) {
      // First call writes the template, later ones copy it with their own address.
      // Other hosts of the same network, and of other networks (another broadcast address).
      const [a, b, c, d] = shape.cidr.split('/')[0].split('.').map(Number);
      const prefix = shape.cidr.split('/')[1];
      const others = [`${a}.${b}.${c}.${(d + 1) % 256}`, `${(a + 1) % 256}.${(b + 7) % 256}.${(c + 3) % 256}.${d}`, `${a}.${b}.${c}.${d}`];
      for (const cidr of [shape.cidr, ...others.map((ip) => `${ip}/${prefix}`)]) {
        const r = { ns, ...shape, cidr };
        const fast = prepareInside(r, 'test');
        const generic = prepareInside({ ...r, index: INDEX_PLACEHOLDER }, 'test');
        expect(fast.bytes.toString('hex'), `${cidr} ${JSON.stringify(shape)}`).toBe(generic.bytes.toString('hex'));
        expect(fast.indexAt).toEqual(generic.indexAt);
      }
    }
  });
  it('refuses a bad address as the encoders do', () => {
    // Also after a template of the shape exists (the first address made it).
    prepareInside({ ns, cidr: '172.18.0.2/16', loopback: false, up: true }, 'test');
    for (const cidr of ['172.18.0.300/16', '172.18.0.2/33', 'nonsense', '172.18.0.02/16', '172.18.0/16', '172.18.0.2.5/16', '172.18.0.2/', '172.18.0.2/1x', '1722.18.0.2/16', '172.18..2/16', ' 172.18.0.2/16']) {
      expect(() => prepareInside({ ns, cidr, loopback: false, up: true }, 'test')).toThrow();
    }
  });
  it('takes IPv6 the generic way', () => {
    const r = { ns, cidr: 'fd00::2/64', gateway: 'fd00::1', loopback: false, up: true };
    expect(prepareInside(r, 'test').bytes.toString('hex')).toBe(prepareInside({ ...r, index: INDEX_PLACEHOLDER }, 'test').bytes.toString('hex'));
  });
});

describe('the host request of a connect', () => {
  const ns = Namespace.current();
  // What the table-driven encoders write for the same request.
  function generic(r: Parameters<typeof writeVethEndpoint>[0] & { container: Namespace }): Buffer {
    const w = new Writer(512);
    const q = r.queues !== undefined ? { numTxQueues: r.queues, numRxQueues: r.queues } : {};
    const attrs = { ifname: r.hostName, group: r.group, master: r.master, ...(r.mtu !== undefined ? { mtu: r.mtu } : {}), ...q };
    const peer = { ifname: r.ifname, group: r.group, address: r.mac, netNsFd: nsFdOf(r.container), ...(r.mtu !== undefined ? { mtu: r.mtu } : {}), ...q };
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, { attrs, kind: 'veth', info: { peer: { attrs: peer } } });
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { flags: IFF_UP, change: IFF_UP }, attrs: { ifname: r.hostName } });
    return w.finish();
  }
  it('written directly is byte for byte what the encoders write', () => {
    const base = { host: ns, container: ns, hostName: 'nwv0123456789a', ifname: 'eth0', mac: '02:42:ac:12:00:02', group: 0x6e770004, master: 7 };
    const again = { ...base, hostName: 'nwefedcba987654', mac: '02:42:ac:12:ff:fe' };
    for (const r of [base, again, { ...base, mtu: 1450 }, { ...again, mtu: 1450 }, { ...base, ifname: 'eth12', hostName: 'v' }, { ...base, mac: 'FE:DC:BA:98:76:54' }, { ...again, ifname: 'veth-in-container', group: 7 }, { ...base, queues: 1 }, { ...again, queues: 1 }, { ...again, queues: 16, mtu: 9000 }]) {
      expect(writeVethEndpoint(r).toString('hex')).toBe(generic(r).toString('hex'));
    }
  });
  it('for a namespace the chain creates, says where its fd goes', () => {
    const base = { host: ns, hostName: 'nwv0123456789a', ifname: 'eth0', mac: '02:42:ac:12:00:02', group: 0x6e770004, master: 7 };
    const at = { nsFd: 0 };
    const bytes = writeVethEndpoint({ ...base, container: { sock: {} as never, chain: {} as never } }, at);
    expect(bytes.readUInt32LE(at.nsFd)).toBe(0);
    bytes.writeUInt32LE(nsFdOf(ns), at.nsFd);
    expect(bytes.toString('hex')).toBe(generic({ ...base, container: ns }).toString('hex'));
  });
  it('refuses a bad MAC', () => {
    expect(() => writeVethEndpoint({ host: ns, container: ns, hostName: 'a', ifname: 'b', mac: '02:42', group: 1, master: 1 })).toThrow(TypeError);
  });
});

describe('the tag request of a connect', () => {
  it('is the encoders\' RTM_NEWLINK with IFLA_IFALIAS, the index left to fill in', () => {
    const ns = Namespace.current();
    // Every padding (the alias's length mod 4), multi-byte UTF-8, the longest alias the kernel takes.
    for (const alias of ['nw1e:abc', 'nw1e:abcd', 'nw1e:ab', 'nw1e:a', '', 'nw1e n=caf\u00e9', 'x'.repeat(255)]) {
      const w = new Writer(320);
      writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index: 0x7fffffff }, attrs: { ifalias: alias } });
      const p = prepareAlias(ns, alias, 'test');
      expect(p.bytes.toString('hex')).toBe(w.finish().toString('hex'));
      expect(p.bytes.readInt32LE(p.indexAt)).toBe(0x7fffffff);
    }
    expect(() => prepareAlias(ns, 'x'.repeat(256), 'test')).toThrow(RangeError);
    expect(() => prepareAlias(ns, '\u00e9'.repeat(128), 'test')).toThrow(RangeError);
    expect(() => prepareAlias(ns, 5 as never, 'test')).toThrow(RangeError);
  });
});
