// Kernel-free tests of the neighbour codec (struct ndmsg, NDA_*, struct
// nda_cacheinfo) for ARP/NDP entries and AF_BRIDGE FDB entries, over bytes
// captured on this kernel (6.18): RTM_NEWNEIGH dump replies, and the
// requests iproute2 6.1 (`ip neigh`, `bridge fdb`) sends for the same commands.
import { describe, expect, it } from 'vitest';
import { NetlinkParseError } from '../../src/errors.js';
import { checkFdb, checkNeighbour, decodeFdb, decodeNeighbour, writeFdbRequest, writeNeighbourRequest } from '../../src/neighbour.js';
import { decodeNdaCacheinfo, decodeNeighMessage, encodeNdmsg, NDMSG_SIZE, neighAttrs } from '../../src/wire/neigh.js';
import { NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, Writer } from '../../src/wire/netlink.js';
import { RTM_DELNEIGH, RTM_NEWNEIGH } from '../../src/wire/rtnetlink.js';
import { hex, message, reencode } from './fixtures.js';

// `ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent`, as dumped.
const ARP_PERMANENT = hex(
  '02 00 0000 03000000 8000 00 01' + // ndmsg: AF_INET, pads, ifindex 3, state NUD_PERMANENT, flags 0, type RTN_UNICAST
    '0800 0100 0a000009' + // NDA_DST 10.0.0.9
    '0a00 0200 020000000009 0000' + // NDA_LLADDR 02:00:00:00:00:09 + 2 pad bytes
    '0800 0400 00000000' + // NDA_PROBES 0
    '1400 0300 02000000 02000000 02000000 00000000', // NDA_CACHEINFO confirmed 2, used 2, updated 2, refcnt 0
);

// The kernel's NOARP entry for the MLDv2 group on v0.
const NDP_NOARP = hex(
  '0a 00 0000 03000000 4000 00 05' + // AF_INET6, ifindex 3, NUD_NOARP, type RTN_MULTICAST
    '1400 0100 ff020000000000000000000000000016' + // NDA_DST ff02::16
    '0a00 0200 333300000016 0000' + // NDA_LLADDR 33:33:00:00:00:16
    '0800 0400 00000000' + // NDA_PROBES
    '1400 0300 7b170000 0b000000 0b000000 00000000', // NDA_CACHEINFO confirmed 6011, used 11, updated 11
);

// `bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.8 vni 100 port 4790`, as dumped.
const FDB_VXLAN = hex(
  '07 00 0000 04000000 c000 02 01' + // AF_BRIDGE, ifindex 4, NUD_NOARP|NUD_PERMANENT, NTF_SELF, type 1
    '0a00 0200 000000000000 0000' + // NDA_LLADDR 00:00:00:00:00:00
    '0800 0100 0a000008' + // NDA_DST 10.0.0.8
    '0600 0600 12b6 0000' + // NDA_PORT 4790 (big endian) + pad
    '0800 0700 64000000' + // NDA_VNI 100
    '1400 0300 00000000 01000000 00000000 00000000', // NDA_CACHEINFO used 1
);

// A device's own multicast entry, as `bridge fdb show` lists it.
const FDB_SELF_MC = hex('07 00 0000 02000000 8000 02 00 0a00 0200 333300000001 0000');

describe('ndmsg and NDA_* (kernel replies)', () => {
  it('decodes a permanent ARP entry', () => {
    expect(decodeNeighMessage(ARP_PERMANENT)).toEqual({
      header: { family: 2, ifindex: 3, state: 0x80, flags: 0, type: 1 },
      attrs: { dst: '10.0.0.9', lladdr: '02:00:00:00:00:09', probes: 0, cacheinfo: hex('02000000 02000000 02000000 00000000') },
    });
    expect(decodeNeighbour(ARP_PERMANENT)).toEqual({
      family: 'inet',
      ifindex: 3,
      address: '10.0.0.9',
      mac: '02:00:00:00:00:09',
      state: 'permanent',
      rawState: 0x80,
      flags: [],
      rawFlags: 0,
      probes: 0,
      cacheinfo: { confirmed: 2, used: 2, updated: 2, refcnt: 0 },
    });
  });

  it('decodes a NOARP NDP entry', () => {
    expect(decodeNeighbour(NDP_NOARP)).toMatchObject({ family: 'inet6', address: 'ff02::16', mac: '33:33:00:00:00:16', state: 'noarp' });
    expect(decodeNdaCacheinfo(hex('7b170000 0b000000 0b000000 00000000'))).toEqual({ confirmed: 6011, used: 11, updated: 11, refcnt: 0 });
  });

  it('decodes FDB entries of a vxlan device and of a device itself', () => {
    expect(decodeFdb(FDB_VXLAN)).toEqual({
      ifindex: 4,
      mac: '00:00:00:00:00:00',
      dst: '10.0.0.8',
      port: 4790,
      vni: 100,
      state: 'permanent',
      rawState: 0xc0,
      flags: ['self'],
      rawFlags: 2,
      cacheinfo: { confirmed: 0, used: 1, updated: 0, refcnt: 0 },
    });
    expect(decodeFdb(FDB_SELF_MC)).toEqual({ ifindex: 2, mac: '33:33:00:00:00:01', state: 'permanent', rawState: 0x80, flags: ['self'], rawFlags: 2 });
  });

  it('encodes the header and every attribute back to the kernel bytes', () => {
    for (const reply of [ARP_PERMANENT, NDP_NOARP, FDB_VXLAN, FDB_SELF_MC]) {
      const { header } = decodeNeighMessage(reply);
      const w = new Writer(16);
      encodeNdmsg(w, header);
      expect(w.finish()).toEqual(reply.subarray(0, NDMSG_SIZE));
      expect(reencode(neighAttrs, reply, NDMSG_SIZE)).toEqual(reply.subarray(NDMSG_SIZE));
    }
  });

  it('keeps unknown attributes raw; rejects truncated input', () => {
    const extra = Buffer.concat([ARP_PERMANENT, hex('0800 3000 01000000')]); // type 48: unknown
    expect(decodeNeighbour(extra).unknown).toEqual([{ type: 48, nested: false, value: hex('01000000') }]);
    expect(() => decodeNeighbour(ARP_PERMANENT.subarray(0, 8))).toThrow(NetlinkParseError);
    expect(() => decodeNeighbour(Buffer.concat([ARP_PERMANENT.subarray(0, NDMSG_SIZE), hex('0800 0300 00000000')]))).toThrow(NetlinkParseError);
  });
});

describe('neighbour and FDB requests (same bytes as iproute2)', () => {
  it('`ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent`', () => {
    const w = new Writer();
    writeNeighbourRequest(w, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 3, checkNeighbour({ link: 3, address: '10.0.0.9', mac: '02:00:00:00:00:09' }, 't'));
    expect(w.finish()).toEqual(
      message(RTM_NEWNEIGH, 0x605, '02 00 0000 03000000 8000 00 00' + '0800 0100 0a000009' + '0a00 0200 020000000009 0000'),
    );
  });

  it('`ip neigh del 10.0.0.9 dev v0`', () => {
    const w = new Writer();
    writeNeighbourRequest(w, RTM_DELNEIGH, NLM_F_ACK, 3, checkNeighbour({ link: 3, address: '10.0.0.9' }, 't'));
    expect(w.finish()).toEqual(message(RTM_DELNEIGH, 0x5, '02 00 0000 03000000 8000 00 00 0800 0100 0a000009'));
  });

  it('`bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.7`', () => {
    const w = new Writer();
    writeFdbRequest(w, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, 4, undefined, checkFdb({ link: 4, mac: '00:00:00:00:00:00', dst: '10.0.0.7' }, 't'));
    expect(w.finish()).toEqual(
      message(
        RTM_NEWNEIGH,
        0xc05, // NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND
        '07 00 0000 04000000 c000 02 00' + // AF_BRIDGE, ifindex 4, NOARP|PERMANENT, NTF_SELF (the default)
          '0a00 0200 000000000000 0000' + // NDA_LLADDR
          '0800 0100 0a000007', // NDA_DST
      ),
    );
  });

  it('`bridge fdb append … dst 10.0.0.8 vni 100 port 4790`', () => {
    const w = new Writer();
    writeFdbRequest(w, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, 4, undefined, checkFdb({ link: 4, mac: '00:00:00:00:00:00', dst: '10.0.0.8', vni: 100, port: 4790 }, 't'));
    expect(w.finish()).toEqual(
      message(
        RTM_NEWNEIGH,
        0xc05,
        '07 00 0000 04000000 c000 02 00 0a00 0200 000000000000 0000 0800 0100 0a000008' +
          '0600 0600 12b6 0000' + // NDA_PORT
          '0800 0700 64000000', // NDA_VNI
      ),
    );
  });

  it('`ip neigh add 10.0.0.61 dev v0 managed`: no state, NDA_FLAGS_EXT', () => {
    const w = new Writer();
    writeNeighbourRequest(w, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 3, checkNeighbour({ link: 3, address: '10.0.0.61', managed: true }, 't'));
    expect(w.finish()).toEqual(
      message(RTM_NEWNEIGH, 0x605, '02 00 0000 03000000 0000 00 00' + '0800 0100 0a00003d' + '0800 0f00 01000000'), // NDA_FLAGS_EXT NTF_EXT_MANAGED
    );
  });

  it('maps FDB states and flags as `bridge fdb` does', () => {
    expect(checkFdb({ link: 1, mac: '02:00:00:00:00:01', master: true, state: 'static' }, 't')).toMatchObject({ state: 0x42, flags: 0x04 });
    expect(checkFdb({ link: 1, mac: '02:00:00:00:00:01', self: true, master: true, state: 'dynamic', sticky: true }, 't')).toMatchObject({ state: 0x02, flags: 0x46 });
  });

  it('rejects bad arguments before any syscall, naming them', () => {
    expect(() => checkNeighbour({ link: 3, address: '10.0.0.300' }, 't')).toThrow(/address/);
    expect(() => checkNeighbour({ link: 3, address: '10.0.0.3', mac: '02:00:00:00:00' }, 't')).toThrow(/mac/);
    expect(() => checkNeighbour({ link: 3, address: '10.0.0.3', state: 'happy' as never }, 't')).toThrow(/state/);
    expect(() => checkNeighbour({ link: 3, address: '10.0.0.3', proxy: true, mac: '02:00:00:00:00:01' }, 't')).toThrow(/proxy/);
    expect(() => checkNeighbour({ link: 3, address: '10.0.0.3', lladdr: 'x' } as never, 't')).toThrow(/unknown option "lladdr"/);
    expect(() => checkFdb({ link: 4, mac: 'zz:00:00:00:00:00' }, 't')).toThrow(/mac/);
    expect(() => checkFdb({ link: 4, mac: '00:00:00:00:00:00', vni: 1 << 24 }, 't')).toThrow(/vni/);
    expect(() => checkFdb({ link: 4, mac: '00:00:00:00:00:00', port: 0 }, 't')).toThrow(/port/);
    expect(() => checkFdb({ link: 4, mac: '00:00:00:00:00:00', vlan: 4095 }, 't')).toThrow(/vlan/);
    expect(() => checkFdb({ link: 4, mac: '00:00:00:00:00:00', dst: 'remote' }, 't')).toThrow(/dst/);
  });
});
