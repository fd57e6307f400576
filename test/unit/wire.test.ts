// Kernel-free tests of the netlink framing and the attribute codec, over
// bytes captured from this kernel (6.18).
import { describe, expect, it } from 'vitest';
import { NetlinkParseError } from '../../src/errors.js';
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  Writer,
  attrPathAt,
  attrs,
  forEachMessage,
  parseError,
  parseMessages,
} from '../../src/wire/netlink.js';
import { schema } from '../../src/wire/schema.js';
import { bytesToIpv6, ipv6ToBytes, parseCidr, networkBytes, ipToBytes, bytesToIp, macToBytes, bytesToMac } from '../../src/wire/address.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RTM_GETLINK for "nope0", as netweave writes it (seq/pid left 0: the engine numbers messages).
const GETLINK_NOPE0 = hex(
  '2c000000 1200 0100 00000000 00000000' + // nlmsghdr: len 44, type 18 RTM_GETLINK, flags NLM_F_REQUEST, seq 0, pid 0
    '00 00 0000 00000000 00000000 00000000' + // ifinfomsg: family, pad, type, index 0, flags, change
    '0a00 0300 6e6f706530 000000', // IFLA_IFNAME (3), len 10: "nope0\0" + 2 bytes padding
);

// The kernel's answer to it: NLMSG_ERROR, flags NLM_F_CAPPED, seq 1.
// Payload: error -19 (ENODEV), then the echoed request header only (capped).
const ENODEV_PAYLOAD = hex('edffffff 2c000000 12000100 01000000 00000000');

// RTM_NEWLINK "x0" of kind "nosuch" and the kernel's extended ack:
// error -95 (EOPNOTSUPP), echoed header, NLMSGERR_ATTR_MSG "Unknown device type".
const NEWLINK_NOSUCH = hex(
  '38000000 10000506 00000000 00000000 00000000 00000000 00000000 00000000' + // hdr: len 56, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE; ifinfomsg
    '07000300 78300000' + // IFLA_IFNAME "x0"
    '10001280 0b000100 6e6f7375 63680000', // IFLA_LINKINFO (18 | NLA_F_NESTED) { IFLA_INFO_KIND "nosuch" }
);
const EOPNOTSUPP_PAYLOAD = hex('a1ffffff 38000000 10000506 02000000 00000000 18000100 556e6b6e 6f776e20 64657669 63652074 79706500');

describe('Writer', () => {
  it('encodes a GETLINK request byte for byte', () => {
    const w = new Writer(16); // small on purpose: exercises growth
    const m = w.begin(18, NLM_F_REQUEST);
    w.struct(16);
    w.string(3, 'nope0');
    w.end(m);
    expect(w.finish()).toEqual(GETLINK_NOPE0);
  });

  it('encodes nested attributes with NLA_F_NESTED and padding', () => {
    const w = new Writer();
    const m = w.begin(16, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    w.struct(16);
    w.string(3, 'x0');
    const li = w.nest(18);
    w.string(1, 'nosuch');
    w.endNest(li);
    w.end(m);
    expect(w.finish()).toEqual(NEWLINK_NOSUCH);
  });

  it('writes integers in the right byte order', () => {
    const w = new Writer();
    w.u16(1, 0x1234);
    w.be16(2, 0x1234);
    w.u32(3, 0xdeadbeef);
    w.be32(4, 0xdeadbeef);
    w.u64(5, 0x0102030405060708n);
    w.be64(6, 1);
    w.flag(7);
    expect(w.finish()).toEqual(
      hex(
        '0600 0100 3412 0000' + '0600 0200 1234 0000' + '0800 0300 efbeadde' + '0800 0400 deadbeef' +
          '0c00 0500 0807060504030201' + '0c00 0600 0000000000000001' + '0400 0700',
      ),
    );
  });
});

describe('parseMessages / parseError', () => {
  it('decodes an ENODEV ack (capped, no TLVs)', () => {
    const buf = Buffer.concat([hex('24000000 0200 0001 01000000 00000000'), ENODEV_PAYLOAD]);
    const [m] = parseMessages(buf);
    expect(m.type).toBe(NLMSG_ERROR);
    expect(m.flags).toBe(0x100);
    expect(parseError(m)).toEqual({ errno: 19, seq: 1 });
  });

  it('decodes the kernel extended-ack message', () => {
    const buf = Buffer.concat([hex('3c000000 0200 0003 02000000 00000000'), EOPNOTSUPP_PAYLOAD]);
    const [m] = parseMessages(buf);
    expect(parseError(m)).toEqual({ errno: 95, seq: 2, kernelMessage: 'Unknown device type' });
  });

  it('splits several messages and respects alignment', () => {
    const one = Buffer.concat([hex('24000000 0200 0001 01000000 00000000'), ENODEV_PAYLOAD]);
    const msgs = parseMessages(Buffer.concat([one, one]));
    expect(msgs).toHaveLength(2);
    expect(msgs[1].payload).toEqual(ENODEV_PAYLOAD);
  });

  it('rejects a truncated header and a lying length without reading past the buffer', () => {
    expect(() => parseMessages(hex('2c000000 1200'))).toThrow(NetlinkParseError);
    expect(() => parseMessages(Buffer.concat([hex('ff000000 1200 0100 00000000 00000000'), Buffer.alloc(8)]))).toThrow(/claims 255 bytes/);
    expect(() => parseMessages(hex('08000000 1200 0100 00000000 00000000'))).toThrow(/claims 8 bytes/);
  });

  it('walks the same messages without copying them, stops when asked, and says when a length lies', () => {
    const one = Buffer.concat([hex('24000000 0200 0001 01000000 00000000'), ENODEV_PAYLOAD]);
    const two = Buffer.concat([one, one]);
    const seen: [number, number, number][] = [];
    expect(forEachMessage(two, (type, at, end) => void seen.push([type, at, end]))).toBe(true);
    expect(seen).toEqual(parseMessages(two).map((m) => [m.type, m.payload.byteOffset - two.byteOffset, m.payload.byteOffset - two.byteOffset + m.payload.length]));
    let calls = 0;
    expect(forEachMessage(two, () => (calls++, false))).toBe(false);
    expect(calls).toBe(1);
    expect(forEachMessage(hex('2c000000 1200'), () => true)).toBe(false);
    expect(forEachMessage(Buffer.concat([hex('ff000000 1200 0100 00000000 00000000'), Buffer.alloc(8)]), () => true)).toBe(false);
    expect(forEachMessage(Buffer.alloc(0), () => false)).toBe(true);
  });

  it('rejects a short NLMSG_ERROR payload', () => {
    const [m] = parseMessages(hex('18000000 0200 0000 01000000 00000000 edffffff 00000000'));
    expect(() => parseError(m)).toThrow(NetlinkParseError);
  });

  it('rejects attributes whose length lies', () => {
    expect(() => attrs(hex('0800 0300 6e6f'))).toThrow(/claims 8 bytes/);
    expect(() => attrs(hex('0200 0300'))).toThrow(/claims 2 bytes/);
    expect(attrs(hex('0500 0300 41000000 0400 0400'))).toMatchObject([{ type: 3 }, { type: 4 }]);
  });
});

describe('schema codec', () => {
  const inner = schema('inner', { kind: [1, 'string'], id: [2, 'be32'] });
  const outer = schema('outer', {
    name: [3, 'string'],
    mtu: [4, 'u32'],
    mac: [1, 'mac'],
    addr: [5, 'ip'],
    big: [6, 'u64'],
    on: [7, 'flag'],
    info: [18, 'nested', inner],
  });

  it('round-trips every kind', () => {
    const w = new Writer();
    const value = { name: 'br0', mtu: 1500, mac: '02:42:ac:11:00:02', addr: 'fe80::1', big: 1n << 40n, on: true, info: { kind: 'veth', id: 7 } };
    outer.encode(w, value);
    expect(outer.decode(w.finish())).toEqual(value);
  });

  it('keeps unknown attributes raw instead of failing', () => {
    const d = outer.decode(hex('0800 6300 01020304 0800 0400 dc050000'));
    expect(d.mtu).toBe(1500);
    expect(d.unknown).toEqual([{ type: 0x63, nested: false, value: hex('01020304') }]);
  });

  it('refuses unknown options and out-of-range values, naming them', () => {
    expect(() => outer.encode(new Writer(), { nmae: 'x' } as never)).toThrow(/outer: unknown option "nmae"/);
    expect(() => outer.encode(new Writer(), { mtu: -1 })).toThrow(/outer\.mtu must be an integer/);
    expect(() => outer.encode(new Writer(), { mac: 'zz' })).toThrow(/outer\.mac must be a MAC/);
    expect(() => outer.encode(new Writer(), { info: { kind: 'x', extra: 1 } as never })).toThrow(/inner: unknown option "extra"/);
  });

  it('rejects a fixed-size attribute that is too short', () => {
    expect(() => outer.decode(hex('0600 0400 dc05 0000'))).toThrow(/outer\.mtu: u32 attribute has 2 bytes/);
  });
});

describe('addresses', () => {
  it('formats IPv6 per RFC 5952', () => {
    for (const [text, canon] of [
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ]) {
      expect(bytesToIpv6(ipv6ToBytes(text))).toBe(canon);
    }
  });

  it('parses CIDRs and computes networks', () => {
    expect(parseCidr('172.18.0.10/16')).toEqual({ address: '172.18.0.10', prefix: 16, family: 2 });
    expect(parseCidr('fd00::1')).toEqual({ address: 'fd00::1', prefix: 128, family: 10 });
    expect(bytesToIp(networkBytes(ipToBytes('172.18.3.10'), 20))).toBe('172.18.0.0');
    expect(() => parseCidr('10.0.0.1/33', 'subnet')).toThrow(/subnet: prefix length/);
    expect(() => parseCidr('10.0.0/8', 'subnet')).toThrow(/subnet: "10.0.0\/8" is not an IP address/);
    expect(bytesToMac(macToBytes('02:42:AC:11:00:02'))).toBe('02:42:ac:11:00:02');
  });
});

describe('attrPathAt', () => {
  it('finds the value of a nested attribute by its path of types, and nothing where a step is missing', () => {
    const w = new Writer();
    const m = w.begin(16, NLM_F_REQUEST);
    w.struct(4);
    w.u32(1, 0x11111111);
    const outer = w.nest(2);
    w.u32(5, 0x22222222);
    const inner = w.nest(3);
    w.u32(7, 0x33333333);
    w.endNest(inner);
    w.endNest(outer);
    w.end(m);
    const b = Buffer.from(w.finish());
    expect(b.readUInt32LE(attrPathAt(b, 0, 4, [1])!)).toBe(0x11111111);
    expect(b.readUInt32LE(attrPathAt(b, 0, 4, [2, 5])!)).toBe(0x22222222);
    expect(b.readUInt32LE(attrPathAt(b, 0, 4, [2, 3, 7])!)).toBe(0x33333333);
    expect(attrPathAt(b, 0, 4, [2, 7])).toBeUndefined();
    expect(attrPathAt(b, 0, 4, [9])).toBeUndefined();
  });
});
