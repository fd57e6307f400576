// nf_tables messages, data types and the rule builder, kernel-free. Message
// fixtures are what nft 1.0.6 sent for the same objects (captured with
// `strace -e write=all nft -f …`); this library writes the same payload,
// with NLM_F_ACK added to the flags.
import { describe, expect, it } from 'vitest';
import { NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST, parseMessages, Writer } from '../../src/wire/netlink.js';
import {
  buildUdata,
  describeAttrAt,
  NFT_MSG_NEWSETELEM,
  NFT_SET_ELEM_INTERVAL_END,
  parseUdata,
  registerForSlot,
  slotOfRegister,
  writeBatchBegin,
  writeBatchEnd,
} from '../../src/wire/nfnetlink.js';
import { writeAddChain } from '../../src/nft/chain.js';
import { writeAddRule } from '../../src/nft/rule.js';
import { decodeRawElements, hasRepeatedElement, typedElements, writeAddSet, writeElements } from '../../src/nft/set.js';
import { writeAddTable } from '../../src/nft/table.js';
import { addElementBatch, addElementsBatch } from '../../src/nft/transaction.js';
import {
  accept,
  buildExprs,
  concat,
  ct,
  dnat,
  fib,
  ip,
  ip6,
  masquerade,
  meta,
  reject,
  tcp,
  th,
  transaction,
  type Expr,
} from '../../src/nft/index.js';
import { concatType, dataTypeByName, encodeValue, resolveType, typeFromKernel, typeSpecOf } from '../../src/nft/datatypes.js';

const hex = (s: TemplateStringsArray) => Buffer.from(s.raw.join('').replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const ACK = NLM_F_REQUEST | NLM_F_ACK;

/** Writes with `write`, returns the one message's type, flags and payload. */
function one(write: (w: Writer) => void) {
  const w = new Writer(64);
  write(w);
  const msgs = parseMessages(Buffer.from(w.finish()));
  expect(msgs).toHaveLength(1);
  return { type: msgs[0].type, flags: msgs[0].flags, payload: msgs[0].payload.toString('hex') };
}

describe('batch framing', () => {
  it('BATCH_BEGIN names the nftables subsystem in res_id (big-endian); BATCH_END likewise', () => {
    const w = new Writer(64);
    writeBatchBegin(w, NLM_F_REQUEST);
    writeBatchEnd(w, NLM_F_REQUEST);
    expect(w.finish().toString('hex')).toBe(
      hex`
        14000000 1000 0100 00000000 00000000  // nlmsghdr: 20 bytes, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST
        00 00 000a                            // nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id NFNL_SUBSYS_NFTABLES
        14000000 1100 0100 00000000 00000000  // NFNL_MSG_BATCH_END
        00 00 000a`.toString('hex'),
    );
  });

  it('an expected generation rides on BATCH_BEGIN', () => {
    const w = new Writer(64);
    writeBatchBegin(w, NLM_F_REQUEST, 7);
    expect(w.finish().subarray(20).toString('hex')).toBe('0800010000000007'); // NFNL_BATCH_GENID = 7
  });
});

describe('object messages equal nft’s', () => {
  it('table', () => {
    const m = one((w) => writeAddTable(w, ACK, { family: 'ip', name: 'T' }));
    expect(m.type).toBe(0x0a00); // NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE
    expect(m.flags).toBe(ACK | NLM_F_CREATE);
    expect(m.payload).toBe(
      hex`
        02 00 0000                // nfgenmsg: NFPROTO_IPV4
        06000100 54000000         // NFTA_TABLE_NAME "T"
        08000200 00000000         // NFTA_TABLE_FLAGS 0`.toString('hex'),
    );
  });

  it('base chain: nat, prerouting, priority dstnat', () => {
    const m = one((w) => writeAddChain(w, ACK, { family: 'ip', table: 'T', name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat' }));
    expect(m.payload).toBe(
      hex`
        02000000
        06000100 54000000         // NFTA_CHAIN_TABLE "T"
        08000300 70726500         // NFTA_CHAIN_NAME "pre"
        08000700 6e617400         // NFTA_CHAIN_TYPE "nat"
        14000480                  // NFTA_CHAIN_HOOK
          08000100 00000000       //   NFTA_HOOK_HOOKNUM  NF_INET_PRE_ROUTING
          08000200 ffffff9c       //   NFTA_HOOK_PRIORITY -100`.toString('hex'),
    );
  });

  it('base chain with a policy; regular chain with a comment', () => {
    expect(one((w) => writeAddChain(w, ACK, { family: 'inet', table: 'F', name: 'filt', type: 'filter', hook: 'forward', priority: 'filter', policy: 'drop' })).payload).toBe(
      hex`
        01000000                  // NFPROTO_INET
        06000100 46000000 09000300 66696c74 00000000
        0b000700 66696c74 65720000 // NFTA_CHAIN_TYPE "filter"
        08000500 00000000         // NFTA_CHAIN_POLICY NF_DROP
        14000480 08000100 00000002 08000200 00000000`.toString('hex'),
    );
    expect(one((w) => writeAddChain(w, ACK, { family: 'inet', table: 'F', name: 'c1', comment: 'chain comment' })).payload).toBe(
      hex`
        01000000 06000100 46000000 07000300 63310000
        14000c00 000e 636861696e20636f6d6d656e7400 // NFTA_CHAIN_USERDATA: NFTNL_UDATA_CHAIN_COMMENT, 14 bytes`.toString('hex'),
    );
  });

  it('rule: ip saddr 127.0.0.0/8 oifname "br0" masquerade comment "hello"', () => {
    const m = one((w) =>
      writeAddRule(w, ACK, { family: 'ip', table: 'T', chain: 'post', exprs: [ip.saddr.eq('127.0.0.0/8'), meta.oifname.eq('br0'), masquerade()], comment: 'hello' }),
    );
    expect(m.flags).toBe(ACK | NLM_F_CREATE | NLM_F_APPEND);
    expect(m.payload).toBe(
      hex`
        02000000
        06000100 54000000                         // NFTA_RULE_TABLE "T"
        09000200 706f7374 00000000                // NFTA_RULE_CHAIN "post"
        d4000480                                  // NFTA_RULE_EXPRESSIONS
          34000180 0c000100 7061796c 6f616400     //   payload load 1b @ network + 12 => reg 1
            24000280 08000100 00000001 08000200 00000001 08000300 0000000c 08000400 00000001
          2c000180 08000100 636d7000              //   cmp eq reg 1 0x7f
            20000280 08000100 00000001 08000200 00000000 0c000380 05000100 7f000000
          24000180 09000100 6d657461 00000000     //   meta load oifname => reg 1
            14000280 08000200 00000007 08000100 00000001
          38000180 08000100 636d7000              //   cmp eq reg 1 "br0"
            2c000280 08000100 00000001 08000200 00000000 18000380 14000100 62723000 00000000 00000000 00000000
          14000180 09000100 6d617371 00000000 04000280 // masq
        0c000700 000668656c6c6f00                 // NFTA_RULE_USERDATA: NFTNL_UDATA_RULE_COMMENT "hello"`.toString('hex'),
    );
  });

  it('sets: an interval set with a comment; a dynamic set with a timeout', () => {
    expect(one((w) => writeAddSet(w, ACK, { family: 'inet', table: 'F', name: 'nets', key: 'ipv4_addr', flags: ['interval'], comment: 'nets!' }, 2)).payload).toBe(
      hex`
        01000000 06000100 46000000
        09000200 6e657473 00000000 // NFTA_SET_NAME "nets"
        08000300 00000004          // NFTA_SET_FLAGS NFT_SET_INTERVAL
        08000400 00000007          // NFTA_SET_KEY_TYPE ipv4_addr (nft's TYPE_IPADDR)
        08000500 00000004          // NFTA_SET_KEY_LEN 4
        08000a00 00000002          // NFTA_SET_ID 2
        12000d00 0004 02000000 0706 6e65747321 00 0000 // NFTA_SET_USERDATA: KEYBYTEORDER big-endian, COMMENT "nets!"`.toString('hex'),
    );
    expect(one((w) => writeAddSet(w, ACK, { family: 'inet', table: 'F', name: 'dyn', key: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: 60_000 }, 6)).payload).toBe(
      hex`
        01000000 06000100 46000000 08000200 64796e00
        08000300 00000030          // NFTA_SET_FLAGS NFT_SET_TIMEOUT | NFT_SET_EVAL
        08000400 00000007 08000500 00000004
        08000a00 00000006
        0c000b00 00000000 0000ea60 // NFTA_SET_TIMEOUT 60000 ms
        0a000d00 0004 02000000 0000`.toString('hex'),
    );
  });

  it('sets: a concatenated interval set carries its field lengths (NFTA_SET_DESC_CONCAT)', () => {
    const m = one((w) => writeAddSet(w, ACK, { family: 'inet', table: 'F', name: 'pairs', key: ['ipv4_addr', 'inet_service'], flags: ['interval'] }, 3));
    expect(m.payload).toContain(
      hex`
        08000300 00000084          // NFTA_SET_FLAGS NFT_SET_INTERVAL | NFT_SET_CONCAT
        08000400 000001cd          // NFTA_SET_KEY_TYPE (7 << 6) | 13
        08000500 00000008          // NFTA_SET_KEY_LEN 8: each field padded to 4
        08000a00 00000003
        20000980 1c000280          // NFTA_SET_DESC { NFTA_SET_DESC_CONCAT {
          0c000180 08000100 00000004 //   NFTA_LIST_ELEM { NFTA_SET_FIELD_LEN 4 }
          0c000180 08000100 00000002 //   NFTA_LIST_ELEM { NFTA_SET_FIELD_LEN 2 } } }`.toString('hex'),
    );
  });

  it('elements of a concatenated map (the publishing map)', () => {
    const pub = { family: 'ip' as const, table: 'T', name: 'pub', key: ['inet_proto', 'inet_service'] as const, data: ['ipv4_addr', 'inet_service'] as const };
    const m = one((w) =>
      writeElements(w, ACK | NLM_F_CREATE, NFT_MSG_NEWSETELEM, { ...pub, key: [...pub.key], data: [...pub.data] }, [
        { key: ['tcp', 8080], data: ['172.18.0.10', 5000] },
        { key: ['udp', 53], data: ['172.18.0.11', 53] },
      ], { setId: 1 }),
    );
    expect(m.payload).toBe(
      hex`
        02000000 06000100 54000000 08000200 70756200 // NFTA_SET_ELEM_LIST_TABLE "T", _SET "pub"
        08000400 00000001                            // NFTA_SET_ELEM_LIST_SET_ID 1
        4c000380                                     // NFTA_SET_ELEM_LIST_ELEMENTS
          24000180                                   //   NFTA_LIST_ELEM
            10000180 0c000100 06000000 1f900000      //     KEY { VALUE tcp (6, padded) . 8080 (be16, padded) }
            10000280 0c000100 ac12000a 13880000      //     DATA { VALUE 172.18.0.10 . 5000 }
          24000180
            10000180 0c000100 11000000 00350000
            10000280 0c000100 ac12000b 00350000`.toString('hex'),
    );
  });

  it('elements with a comment, a verdict, and a key range of a concatenation', () => {
    const marks = one((w) => writeElements(w, ACK, NFT_MSG_NEWSETELEM, { family: 'inet', table: 'F', name: 'marks', key: 'mark' }, [{ key: 0x10, comment: 'm' }], { setId: 5 }));
    expect(marks.payload).toBe(
      hex`
        01000000 06000100 46000000 0a000200 6d61726b 73000000 08000400 00000005
        1c000380 18000180
          0c000180 08000100 10000000 // KEY { VALUE 0x10, host-endian }
          08000600 00026d00          // NFTA_SET_ELEM_USERDATA: NFTNL_UDATA_SET_ELEM_COMMENT "m"`.toString('hex'),
    );
    const vm = one((w) => writeElements(w, ACK, NFT_MSG_NEWSETELEM, { family: 'inet', table: 'F', name: 'vm', key: 'ifname', data: 'verdict' }, [{ key: 'eth0', data: { code: 'accept' } }], { setId: 4 }));
    expect(vm.payload).toBe(
      hex`
        01000000 06000100 46000000 07000200 766d0000 08000400 00000004
        30000380 2c000180
          18000180 14000100 65746830 00000000 00000000 00000000 // KEY "eth0", 16 bytes
          10000280 0c000280 08000100 00000001                   // DATA { VERDICT { CODE NF_ACCEPT } }`.toString('hex'),
    );
    const pairs = one((w) =>
      writeElements(w, ACK, NFT_MSG_NEWSETELEM, { family: 'inet', table: 'F', name: 'pairs', key: ['ipv4_addr', 'inet_service'], flags: ['interval'] }, [
        { key: ['10.0.0.0/8', 80], keyEnd: ['10.255.255.255', 90] },
      ], { setId: 3 }),
    );
    expect(pairs.payload).toBe(
      hex`
        01000000 06000100 46000000 0a000200 70616972 73000000 08000400 00000003
        28000380 24000180
          10000180 0c000100 0a000000 00500000 // KEY     10.0.0.0 . 80
          10000a80 0c000100 0affffff 005a0000 // KEY_END 10.255.255.255 . 90`.toString('hex'),
    );
  });
});

describe('interval sets of one field', () => {
  const nets = { family: 'inet' as const, table: 'F', name: 'nets', key: 'ipv4_addr', flags: ['interval'] };

  it('write each range as a start and an interval-end one past it', () => {
    const m = one((w) => writeElements(w, ACK, NFT_MSG_NEWSETELEM, nets, [{ key: '192.168.1.1', keyEnd: '192.168.1.9' }, { key: '10.0.0.0/8' }, { key: '255.0.0.0/8' }]));
    const raw = decodeRawElements({ type: 0, flags: 0, seq: 0, pid: 0, payload: Buffer.from(m.payload, 'hex') }).elements;
    expect(raw.map((e) => [e.key!.toString('hex'), e.flags])).toEqual([
      ['0a000000', 0],
      ['0b000000', 1], // NFT_SET_ELEM_INTERVAL_END
      ['c0a80101', 0],
      ['c0a8010a', 1],
      ['ff000000', 0], // ends at the top of the key space: no end element
    ]);
    expect(typedElements(nets, raw)).toEqual([
      { key: '10.0.0.0', keyEnd: '10.255.255.255' },
      { key: '192.168.1.1', keyEnd: '192.168.1.9' },
      { key: '255.0.0.0', keyEnd: '255.255.255.255' },
    ]);
  });

  it('read nft’s encoding too (it adds a leading interval end at 0)', () => {
    const raw = [
      { key: Buffer.from('c0a8010a', 'hex'), flags: 1 },
      { key: Buffer.from('c0a80101', 'hex'), flags: 0 },
      { key: Buffer.from('0b000000', 'hex'), flags: 1 },
      { key: Buffer.from('0a000000', 'hex'), flags: 0 },
      { key: Buffer.from('00000000', 'hex'), flags: 1 },
    ];
    expect(typedElements(nets, raw)).toEqual([{ key: '10.0.0.0', keyEnd: '10.255.255.255' }, { key: '192.168.1.1', keyEnd: '192.168.1.9' }]);
  });

  it('refuse overlaps and reversed ranges', () => {
    const w = new Writer(64);
    expect(() => writeElements(w, ACK, NFT_MSG_NEWSETELEM, nets, [{ key: '10.0.0.0/8' }, { key: '10.1.0.0/16' }])).toThrow(/elements\[1\] overlaps elements\[0\]/);
    expect(() => writeElements(w, ACK, NFT_MSG_NEWSETELEM, nets, [{ key: '10.0.0.9', keyEnd: '10.0.0.1' }])).toThrow(/ends before it starts/);
    expect(() => writeElements(w, ACK, NFT_MSG_NEWSETELEM, { ...nets, flags: [] }, [{ key: '10.0.0.1', keyEnd: '10.0.0.2' }])).toThrow(/interval flag/);
    // Host-endian keys would sort wrong in the kernel's bytewise interval tree.
    expect(() => writeAddSet(w, ACK, { family: 'ip', table: 'T', name: 'm', key: 'mark', flags: ['interval'] }, 1)).toThrow(/mark is host-endian/);
  });
});

describe('big element lists', () => {
  it('split across messages when one would pass 64 KiB of elements, none lost', () => {
    const big = { family: 'ip' as const, table: 'T', name: 'pub', key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'] };
    const elements = Array.from({ length: 10_000 }, (_, i) => ({ key: ['tcp', i + 1], data: [`10.0.${i >> 8}.${i & 255}`, 80] }));
    const w = new Writer(64);
    writeElements(w, ACK, NFT_MSG_NEWSETELEM, big, elements);
    const msgs = parseMessages(Buffer.from(w.finish()));
    expect(msgs.length).toBeGreaterThan(1);
    const back = msgs.flatMap((m) => typedElements(big, decodeRawElements(m).elements));
    expect(back).toEqual(elements);
  });

  it('name the element whose value is wrong', () => {
    const w = new Writer(64);
    const pub = { family: 'ip' as const, table: 'T', name: 'pub', key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'] };
    expect(() => writeElements(w, ACK, NFT_MSG_NEWSETELEM, pub, [{ key: ['tcp', 1], data: ['1.2.3.4', 1] }, { key: ['tcp', 2], data: ['1.2.3.256', 1] }])).toThrow(
      'elements[1].data[0] must be an IPv4 address, got "1.2.3.256"',
    );
  });
});

describe('a dump that sent an element twice', () => {
  // What the kernel sends when a hash set is rehashed between two parts of its
  // dump: as many elements come twice as are never sent. listElements reads again.
  const elems = (keys: number[], flags = 0) => keys.map((k) => ({ key: Buffer.from([0, 0, k >> 8, k & 255]), flags }));
  it('is told apart from a complete one', () => {
    expect(hasRepeatedElement(elems([1, 2, 3, 4]))).toBe(false);
    expect(hasRepeatedElement([...elems([1, 2, 3]), ...elems([2])])).toBe(true);
  });
  it('counts an interval end sharing its key with the next start as two elements, and ranges by both keys', () => {
    expect(hasRepeatedElement([...elems([10]), ...elems([10], NFT_SET_ELEM_INTERVAL_END)])).toBe(false);
    const range = (a: number, b: number) => ({ key: Buffer.from([a]), keyEnd: Buffer.from([b]), flags: 0 });
    expect(hasRepeatedElement([range(1, 5), range(1, 6)])).toBe(false);
    expect(hasRepeatedElement([range(1, 5), range(1, 5)])).toBe(true);
  });
});

describe('data types', () => {
  it('concatenation ids are the parts’ ids, 6 bits each (nft’s)', () => {
    expect(resolveType(['inet_proto', 'inet_service']).id).toBe(781);
    expect(resolveType(['ipv4_addr', 'inet_service']).id).toBe(461);
    expect(resolveType(['ipv4_addr', 'inet_service']).len).toBe(8);
    expect(typeSpecOf(typeFromKernel(781, 8))).toEqual(['inet_proto', 'inet_service']);
    expect(typeSpecOf(typeFromKernel(7, 4))).toBe('ipv4_addr');
    expect(typeFromKernel(4, 3).name).toBe('type 4'); // integer of 3 bytes: raw
    expect(() => concatType([dataTypeByName('ipv6_addr'), dataTypeByName('ipv6_addr'), dataTypeByName('ipv6_addr'), dataTypeByName('ipv6_addr'), dataTypeByName('inet_service')])).toThrow(RangeError);
  });

  it('values encode as the kernel compares them', () => {
    expect(encodeValue(dataTypeByName('inet_service'), 8080, 'p').toString('hex')).toBe('1f90');
    expect(encodeValue(dataTypeByName('inet_proto'), 'udp', 'p').toString('hex')).toBe('11');
    expect(encodeValue(dataTypeByName('mark'), 0x10, 'm').toString('hex')).toBe('10000000');
    expect(encodeValue(dataTypeByName('ifname'), 'br0', 'i').toString('hex')).toBe('62723000000000000000000000000000');
    expect(encodeValue(dataTypeByName('ct_state'), ['established', 'related'], 's').toString('hex')).toBe('06000000');
    expect(encodeValue(dataTypeByName('ipv6_addr'), 'fd00::2', 'a').toString('hex')).toBe('fd000000000000000000000000000002');
  });

  it('IPv4 text is checked the way net.isIPv4 checks it', () => {
    const t = dataTypeByName('ipv4_addr');
    for (const good of ['0.0.0.0', '255.255.255.255', '10.0.0.1']) expect(() => encodeValue(t, good, 'a')).not.toThrow();
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1..2.3', ' 1.2.3.4', '1.2.3.4/8', '', 'a.b.c.d']) {
      expect(() => encodeValue(t, bad, 'a'), bad).toThrow(TypeError);
    }
  });
});

describe('registers', () => {
  it('4-byte slots map to register numbers the way nft writes them', () => {
    expect([0, 1, 3, 4, 5, 15].map(registerForSlot)).toEqual([1, 9, 11, 2, 13, 23]);
    expect([1, 2, 8, 9, 23].map(slotOfRegister)).toEqual([0, 4, 0, 1, 15]);
  });
});

describe('builder', () => {
  const nfproto4: Expr[] = [
    { type: 'meta', key: 'nfproto', dreg: 1 },
    { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([2]) },
  ];

  it('adds the network-protocol match only where the table family needs it, once per rule', () => {
    const saddr: Expr[] = [
      { type: 'payload', base: 'network', offset: 12, len: 1, dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([10]) },
    ];
    expect(buildExprs('ip', [ip.saddr.eq('10.0.0.0/8')])).toEqual(saddr);
    expect(buildExprs('inet', [ip.saddr.eq('10.0.0.0/8'), ip.daddr.eq('10.1.2.3')])).toEqual([
      ...nfproto4,
      ...saddr,
      { type: 'payload', base: 'network', offset: 16, len: 4, dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([10, 1, 2, 3]) },
    ]);
    expect(buildExprs('bridge', [ip6.saddr.eq('::1')]).slice(0, 2)).toEqual([
      { type: 'meta', key: 'protocol', dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([0x86, 0xdd]) },
    ]);
    expect(() => buildExprs('ip', [ip6.saddr.eq('::1')])).toThrow(/ip6 saddr cannot match in a table of family ip/);
  });

  it('tcp ports match meta l4proto tcp first; th ports do not', () => {
    expect(buildExprs('ip', [tcp.dport.eq(22), tcp.sport.neq(1)])).toEqual([
      { type: 'meta', key: 'l4proto', dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([6]) },
      { type: 'payload', base: 'transport', offset: 2, len: 2, dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([0, 22]) },
      { type: 'payload', base: 'transport', offset: 0, len: 2, dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'neq', data: Buffer.from([0, 1]) },
    ]);
    expect(buildExprs('ip', [th.dport.eq(22)])[0]).toEqual({ type: 'payload', base: 'transport', offset: 2, len: 2, dreg: 1 });
  });

  it('prefixes: byte-aligned ones load fewer bytes, others mask', () => {
    expect(buildExprs('ip', [ip.daddr.eq('10.0.0.0/20')])).toEqual([
      { type: 'payload', base: 'network', offset: 16, len: 4, dreg: 1 },
      { type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 'mask_xor', mask: Buffer.from([255, 255, 240, 0]), xor: Buffer.alloc(4) },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([10, 0, 0, 0]) },
    ]);
    expect(() => ip.saddr.eq('10.0.0.0/33')).toThrow(RangeError);
    expect(() => ip.saddr.eq('fd00::/8')).toThrow(TypeError);
  });

  it('interface names: exact (16 bytes) or a prefix wildcard', () => {
    expect(buildExprs('ip', [meta.iifname.eq('veth*')])[1]).toEqual({ type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from('veth') });
    expect(() => meta.iifname.eq('0123456789abcdef')).toThrow(RangeError);
  });

  it('concatenations take consecutive 4-byte slots', () => {
    expect(buildExprs('ip', [concat(meta.l4proto, th.dport).in('pub')])).toEqual([
      { type: 'meta', key: 'l4proto', dreg: 1 },
      { type: 'payload', base: 'transport', offset: 2, len: 2, dreg: 9 },
      { type: 'lookup', set: 'pub', sreg: 1 },
    ]);
    // An IPv6 address fills slots 0-3: the port goes to slot 4, register 2.
    const e = buildExprs('inet', [concat(ip6.saddr, tcp.dport).notIn('s')]);
    expect(e.slice(-3)).toEqual([
      { type: 'payload', base: 'network', offset: 8, len: 16, dreg: 1 },
      { type: 'payload', base: 'transport', offset: 2, len: 2, dreg: 2 },
      { type: 'lookup', set: 's', sreg: 1, invert: true },
    ]);
    expect(e.slice(0, 4).map((x) => (x.type === 'meta' ? x.key : x.type))).toEqual(['nfproto', 'cmp', 'l4proto', 'cmp']);
  });

  it('dnat through a map: the port register follows the address', () => {
    const m = { key: concat(meta.l4proto, th.dport), name: 'pub', withPort: true };
    expect(buildExprs('ip', [dnat({ map: m })]).at(-1)).toEqual({ type: 'nat', kind: 'dnat', family: 'ip', regAddrMin: 1, regProtoMin: 9 });
    expect(buildExprs('inet', [dnat({ family: 'ip6', map: m })]).at(-1)).toEqual({ type: 'nat', kind: 'dnat', family: 'ip6', regAddrMin: 1, regProtoMin: 2 });
    expect(() => buildExprs('inet', [dnat({ map: m })])).toThrow(/family \('ip' or 'ip6'\) is required in a inet table/);
  });

  it('statements: reject by family, ct state bits, fib, verdicts', () => {
    expect(buildExprs('ip', [reject()])).toEqual([{ type: 'reject', kind: 'icmp_unreach', code: 3 }]);
    expect(buildExprs('ip6', [reject()])).toEqual([{ type: 'reject', kind: 'icmp_unreach', code: 4 }]);
    expect(buildExprs('inet', [reject()])).toEqual([{ type: 'reject', kind: 'icmpx_unreach', code: 1 }]);
    expect(buildExprs('ip', [ct.state.hasNone('invalid')])[2]).toEqual({ type: 'cmp', sreg: 1, op: 'eq', data: Buffer.alloc(4) });
    expect(buildExprs('ip', [fib.daddr.type.eq('local'), accept()])).toEqual([
      { type: 'fib', result: 'addrtype', flags: ['daddr'], dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([2, 0, 0, 0]) },
      { type: 'immediate', dreg: 0, verdict: { code: 'accept' } },
    ]);
    expect(() => meta.mark.lt(5)).toThrow(/host-endian/);
    expect(() => tcp.dport.range(10, 5)).toThrow(RangeError);
  });

  it('a failed add leaves the transaction unchanged', () => {
    const tx = transaction().addTable({ family: 'ip', name: 'T' });
    expect(() => tx.addRule({ family: 'ip', table: 'T', chain: 'c', exprs: [ip6.saddr.eq('::1')] })).toThrow(TypeError);
    expect(tx.describe()).toEqual(['add table ip T']);
  });
});

describe('userdata and error locations', () => {
  it('userdata TLVs round-trip; a truncated entry ends the walk', () => {
    const u = buildUdata([
      [0, Buffer.from('hi\0')],
      [7, Buffer.from([1, 2, 3, 4])],
    ]);
    expect(u.toString('hex')).toBe('0003686900' + '070401020304');
    expect([...parseUdata(u)].map(([t, v]) => [t, v.toString('hex')])).toEqual([
      [0, '686900'],
      [7, '01020304'],
    ]);
    expect([...parseUdata(Buffer.from('0003686900070901', 'hex')).keys()]).toEqual([0]);
    expect(() => buildUdata([[0, Buffer.alloc(256)]])).toThrow(RangeError);
  });

  it('an extended-ack offset names the attribute, or the expression inside a rule', () => {
    const w = new Writer(64);
    writeAddRule(w, ACK, { family: 'ip', table: 'T', chain: 'post', exprs: [ip.saddr.eq('10.0.0.0/8'), masquerade()] });
    const msg = Buffer.from(w.finish());
    expect(describeAttrAt(msg, 28)).toBe('NFTA_RULE_CHAIN');
    const second = msg.indexOf(Buffer.from('masq'));
    expect(describeAttrAt(msg, second)).toBe('expression #3 (masq)');
    expect(describeAttrAt(msg, 2000)).toBeUndefined();
  });
});

describe('one element from a template (addElementBatch)', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const map4 = Object.freeze({ family: 'inet', table: 'netweave', name: 'pub4', key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'] }) as never;
  const map6 = Object.freeze({ family: 'inet', table: 'netweave', name: 'pub6a', key: ['ipv6_addr', 'inet_proto', 'inet_service'], data: ['ipv6_addr', 'inet_service'] }) as never;
  const set = Object.freeze({ family: 'inet', table: 'netweave', name: 'isolate', key: ['ifname', 'ifname'] }) as never;

  it('writes what addElementsBatch writes, byte for byte, for the first element and the ones after it', () => {
    const cases: [never, { key: unknown; data?: unknown }[]][] = [
      [map4, [{ key: ['tcp', 8080], data: ['172.18.0.10', 80] }, { key: ['udp', 53], data: ['10.0.0.2', 5353] }, { key: ['tcp', 65535], data: ['255.255.255.255', 1] }]],
      [map6, [{ key: ['fd00::1', 'tcp', 443], data: ['fd00:18::10', 8443] }, { key: ['::1', 'udp', 1], data: ['fd00::2', 2] }]],
      [set, [{ key: ['br0', 'br1'] }, { key: ['a-very-long-nm', 'x'] }, { key: ['b', 'c'] }]],
    ];
    for (const [spec, elements] of cases) {
      for (const exclusive of [true, false]) {
        elements.forEach((e, i) => {
          const opts = { exclusive, expectGeneration: 1000 + i };
          expect(hex(addElementBatch(spec, e as never, opts))).toBe(hex(addElementsBatch(spec, [e as never], opts)));
        });
      }
    }
  });

  it('refuses a bad key or missing data from the template too, and leaves elements with a comment to addElementsBatch', () => {
    const opts = { exclusive: true, expectGeneration: 7 };
    addElementBatch(map4, { key: ['tcp', 1], data: ['10.0.0.1', 1] } as never, opts); // the template
    expect(() => addElementBatch(map4, { key: ['tcp', 70000], data: ['10.0.0.1', 1] } as never, opts)).toThrow(RangeError);
    expect(() => addElementBatch(map4, { key: ['tcp', 1] } as never, opts)).toThrow(TypeError);
    const tagged = { key: ['tcp', 2], data: ['10.0.0.1', 1], comment: 'nw:e1' } as never;
    expect(hex(addElementBatch(map4, tagged, opts))).toBe(hex(addElementsBatch(map4, [tagged], opts)));
  });
});
