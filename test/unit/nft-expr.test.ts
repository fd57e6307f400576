// Per-expression wire tests, kernel-free. Fixtures are the contents of one
// NFTA_LIST_ELEM ({ NFTA_EXPR_NAME, NFTA_EXPR_DATA }) as real tools and the
// kernel wrote them:
//  - "nft" fixtures: what nft 1.0.6 / libnftnl sent for a rule (captured with
//    `strace -e write=all nft -f …`): decode == expected AND encode == bytes.
//  - "kernel" fixtures: what the kernel dumped back (nests without
//    NLA_F_NESTED, defaults filled in): decode == expected.
// Attribute values in nf_tables are big-endian unless noted.
import { describe, expect, it } from 'vitest';
import { NetlinkParseError } from '../../src/errors.js';
import { Writer } from '../../src/wire/netlink.js';
import { decodeExpr, decodeExprList, encodeExprAttrs, encodeExprList, registeredExprs, type Expr } from '../../src/wire/nft-expr/index.js';

/** Hex with `//` comments and whitespace. */
const hex = (s: TemplateStringsArray) => Buffer.from(s.raw.join('').replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const b = (h: string) => Buffer.from(h, 'hex');

interface Fixture {
  what: string;
  bytes: Buffer;
  expr: Expr;
}

const NFT: Fixture[] = [
  {
    what: 'meta load oifname => reg 1',
    bytes: hex`
      09000100 6d657461 00000000   // NFTA_EXPR_NAME "meta\\0" (9 bytes, padded)
      14000280                     // NFTA_EXPR_DATA, nested, 20 bytes
        08000200 00000007          //   NFTA_META_KEY  = NFT_META_OIFNAME (7)
        08000100 00000001          //   NFTA_META_DREG = NFT_REG_1`,
    expr: { type: 'meta', key: 'oifname', dreg: 1 },
  },
  {
    what: 'meta set mark with reg 1',
    bytes: hex`
      09000100 6d657461 00000000   // "meta"
      14000280
        08000200 00000003          //   NFTA_META_KEY  = NFT_META_MARK (3)
        08000300 00000001          //   NFTA_META_SREG = NFT_REG_1`,
    expr: { type: 'meta', key: 'mark', sreg: 1 },
  },
  {
    what: 'payload load 2b @ transport header + 2 => reg 9 (th dport in a concatenation)',
    bytes: hex`
      0c000100 7061796c 6f616400   // "payload"
      24000280
        08000100 00000009          //   NFTA_PAYLOAD_DREG   = NFT_REG32_01 (9)
        08000200 00000002          //   NFTA_PAYLOAD_BASE   = NFT_PAYLOAD_TRANSPORT_HEADER
        08000300 00000002          //   NFTA_PAYLOAD_OFFSET = 2
        08000400 00000002          //   NFTA_PAYLOAD_LEN    = 2`,
    expr: { type: 'payload', base: 'transport', offset: 2, len: 2, dreg: 9 },
  },
  {
    what: 'payload write reg 1 => 2b @ network header + 8, inet checksum at 10 (ip ttl set)',
    bytes: hex`
      0c000100 7061796c 6f616400   // "payload"
      34000280
        08000500 00000001          //   NFTA_PAYLOAD_SREG        = NFT_REG_1
        08000200 00000001          //   NFTA_PAYLOAD_BASE        = NFT_PAYLOAD_NETWORK_HEADER
        08000300 00000008          //   NFTA_PAYLOAD_OFFSET      = 8
        08000400 00000002          //   NFTA_PAYLOAD_LEN         = 2
        08000600 00000001          //   NFTA_PAYLOAD_CSUM_TYPE   = NFT_PAYLOAD_CSUM_INET
        08000700 0000000a          //   NFTA_PAYLOAD_CSUM_OFFSET = 10`,
    expr: { type: 'payload', base: 'network', offset: 8, len: 2, sreg: 1, csumType: 'inet', csumOffset: 10 },
  },
  {
    what: 'cmp neq reg 1 "br0" (an ifname: 16 bytes)',
    bytes: hex`
      08000100 636d7000            // "cmp"
      2c000280
        08000100 00000001          //   NFTA_CMP_SREG = NFT_REG_1
        08000200 00000001          //   NFTA_CMP_OP   = NFT_CMP_NEQ
        18000380                   //   NFTA_CMP_DATA, nested nft_data
          14000100 62723000 00000000 00000000 00000000 // NFTA_DATA_VALUE "br0", NUL-padded`,
    expr: { type: 'cmp', sreg: 1, op: 'neq', data: b('62723000000000000000000000000000') },
  },
  {
    what: 'cmp gte reg 1 1000 (a port, 2 bytes, padded to 4)',
    bytes: hex`
      08000100 636d7000
      20000280
        08000100 00000001          //   NFTA_CMP_SREG = NFT_REG_1
        08000200 00000005          //   NFTA_CMP_OP   = NFT_CMP_GTE
        0c000380 06000100 03e80000 //   NFTA_CMP_DATA { NFTA_DATA_VALUE 0x03e8 }`,
    expr: { type: 'cmp', sreg: 1, op: 'gte', data: b('03e8') },
  },
  {
    what: 'bitwise reg 1 = (reg 1 & 0x06) ^ 0 (ct state established,related)',
    bytes: hex`
      0c000100 62697477 69736500   // "bitwise"
      34000280
        08000100 00000001          //   NFTA_BITWISE_SREG = NFT_REG_1
        08000200 00000001          //   NFTA_BITWISE_DREG = NFT_REG_1
        08000300 00000004          //   NFTA_BITWISE_LEN  = 4 (no NFTA_BITWISE_OP: mask/xor)
        0c000480 08000100 06000000 //   NFTA_BITWISE_MASK { value 06 00 00 00 (host-endian ct state bits) }
        0c000580 08000100 00000000 //   NFTA_BITWISE_XOR  { value 0 }`,
    expr: { type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 'mask_xor', mask: b('06000000'), xor: b('00000000') },
  },
  {
    what: 'ct load state => reg 1',
    bytes: hex`
      07000100 63740000            // "ct"
      14000280
        08000200 00000000          //   NFTA_CT_KEY  = NFT_CT_STATE
        08000100 00000001          //   NFTA_CT_DREG = NFT_REG_1`,
    expr: { type: 'ct', key: 'state', dreg: 1 },
  },
  {
    what: 'ct load src_ip original => reg 1 (ct original ip saddr)',
    bytes: hex`
      07000100 63740000
      1c000280
        08000200 00000013          //   NFTA_CT_KEY       = NFT_CT_SRC_IP (19)
        08000100 00000001          //   NFTA_CT_DREG      = NFT_REG_1
        05000300 00000000          //   NFTA_CT_DIRECTION = IP_CT_DIR_ORIGINAL (u8)`,
    expr: { type: 'ct', key: 'src_ip', dreg: 1, direction: 'original' },
  },
  {
    what: 'ct set mark with reg 1',
    bytes: hex`
      07000100 63740000
      14000280
        08000200 00000003          //   NFTA_CT_KEY  = NFT_CT_MARK
        08000400 00000001          //   NFTA_CT_SREG = NFT_REG_1`,
    expr: { type: 'ct', key: 'mark', sreg: 1 },
  },
  {
    what: 'fib daddr type => reg 1',
    bytes: hex`
      08000100 66696200            // "fib"
      1c000280
        08000300 00000002          //   NFTA_FIB_FLAGS  = NFTA_FIB_F_DADDR
        08000200 00000003          //   NFTA_FIB_RESULT = NFT_FIB_RESULT_ADDRTYPE
        08000100 00000001          //   NFTA_FIB_DREG   = NFT_REG_1`,
    expr: { type: 'fib', result: 'addrtype', flags: ['daddr'], dreg: 1 },
  },
  {
    what: 'immediate reg 1 0x1f90 (port 8080)',
    bytes: hex`
      0e000100 696d6d65 64696174 65000000 // "immediate"
      18000280
        08000100 00000001          //   NFTA_IMMEDIATE_DREG = NFT_REG_1
        0c000280 06000100 1f900000 //   NFTA_IMMEDIATE_DATA { NFTA_DATA_VALUE 1f 90 }`,
    expr: { type: 'immediate', dreg: 1, data: b('1f90') },
  },
  {
    what: 'immediate reg 0 accept',
    bytes: hex`
      0e000100 696d6d65 64696174 65000000
      1c000280
        08000100 00000000          //   NFTA_IMMEDIATE_DREG = NFT_REG_VERDICT
        10000280                   //   NFTA_IMMEDIATE_DATA
          0c000280                 //     NFTA_DATA_VERDICT
            08000100 00000001      //       NFTA_VERDICT_CODE = NF_ACCEPT`,
    expr: { type: 'immediate', dreg: 0, verdict: { code: 'accept' } },
  },
  {
    what: 'immediate reg 0 jump -> other',
    bytes: hex`
      0e000100 696d6d65 64696174 65000000
      28000280
        08000100 00000000          //   NFTA_IMMEDIATE_DREG = NFT_REG_VERDICT
        1c000280 18000280          //   NFTA_IMMEDIATE_DATA { NFTA_DATA_VERDICT {
          08000100 fffffffd        //     NFTA_VERDICT_CODE  = NFT_JUMP (-3)
          0a000200 6f746865 72000000 //   NFTA_VERDICT_CHAIN = "other" } }`,
    expr: { type: 'immediate', dreg: 0, verdict: { code: 'jump', chain: 'other' } },
  },
  {
    what: 'immediate reg 0 return',
    bytes: hex`
      0e000100 696d6d65 64696174 65000000
      1c000280 08000100 00000000 10000280 0c000280
        08000100 fffffffb          //       NFTA_VERDICT_CODE = NFT_RETURN (-5)`,
    expr: { type: 'immediate', dreg: 0, verdict: { code: 'return' } },
  },
  {
    what: 'counter (nft sends an empty NFTA_EXPR_DATA)',
    bytes: hex`
      0c000100 636f756e 74657200   // "counter"
      04000280                     // NFTA_EXPR_DATA, empty`,
    expr: { type: 'counter' },
  },
  {
    what: 'nat dnat ip addr_min reg 1 proto_min reg 9 (through a map, port in the second slot)',
    bytes: hex`
      08000100 6e617400            // "nat"
      24000280
        08000100 00000001          //   NFTA_NAT_TYPE          = NFT_NAT_DNAT
        08000200 00000002          //   NFTA_NAT_FAMILY        = NFPROTO_IPV4
        08000300 00000001          //   NFTA_NAT_REG_ADDR_MIN  = NFT_REG_1
        08000500 00000009          //   NFTA_NAT_REG_PROTO_MIN = NFT_REG32_01`,
    expr: { type: 'nat', kind: 'dnat', family: 'ip', regAddrMin: 1, regProtoMin: 9 },
  },
  {
    what: 'nat dnat ip6 addr_min reg 1 proto_min reg 2 flags proto-specified',
    bytes: hex`
      08000100 6e617400
      2c000280
        08000100 00000001          //   NFTA_NAT_TYPE          = NFT_NAT_DNAT
        08000200 0000000a          //   NFTA_NAT_FAMILY        = NFPROTO_IPV6
        08000300 00000001          //   NFTA_NAT_REG_ADDR_MIN  = NFT_REG_1
        08000500 00000002          //   NFTA_NAT_REG_PROTO_MIN = NFT_REG_2
        08000700 00000002          //   NFTA_NAT_FLAGS         = NF_NAT_RANGE_PROTO_SPECIFIED`,
    expr: { type: 'nat', kind: 'dnat', family: 'ip6', regAddrMin: 1, regProtoMin: 2, flags: ['proto_specified'] },
  },
  {
    what: 'nat snat ip addr_min reg 1',
    bytes: hex`
      08000100 6e617400
      1c000280
        08000100 00000000          //   NFTA_NAT_TYPE         = NFT_NAT_SNAT
        08000200 00000002          //   NFTA_NAT_FAMILY       = NFPROTO_IPV4
        08000300 00000001          //   NFTA_NAT_REG_ADDR_MIN = NFT_REG_1`,
    expr: { type: 'nat', kind: 'snat', family: 'ip', regAddrMin: 1 },
  },
  {
    what: 'masq proto_min reg 1 proto_max reg 2 flags random,persistent',
    bytes: hex`
      09000100 6d617371 00000000   // "masq"
      1c000280
        08000100 0000000e          //   NFTA_MASQ_FLAGS = PROTO_SPECIFIED | PROTO_RANDOM | PERSISTENT
        08000200 00000001          //   NFTA_MASQ_REG_PROTO_MIN = NFT_REG_1
        08000300 00000002          //   NFTA_MASQ_REG_PROTO_MAX = NFT_REG_2`,
    expr: { type: 'masq', flags: ['proto_specified', 'random', 'persistent'], regProtoMin: 1, regProtoMax: 2 },
  },
  {
    what: 'masq (no attributes: an empty NFTA_EXPR_DATA)',
    bytes: hex`09000100 6d617371 00000000 04000280`,
    expr: { type: 'masq' },
  },
  {
    what: 'redir proto_min reg 1 flags proto-specified',
    bytes: hex`
      0a000100 72656469 72000000   // "redir"
      14000280
        08000100 00000001          //   NFTA_REDIR_REG_PROTO_MIN = NFT_REG_1
        08000300 00000002          //   NFTA_REDIR_FLAGS = NF_NAT_RANGE_PROTO_SPECIFIED`,
    expr: { type: 'redir', regProtoMin: 1, flags: ['proto_specified'] },
  },
  {
    what: 'lookup reg 1 set pub dreg 1 (a map: data into reg 1)',
    bytes: hex`
      0b000100 6c6f6f6b 75700000   // "lookup"
      24000280
        08000200 00000001          //   NFTA_LOOKUP_SREG   = NFT_REG_1
        08000300 00000001          //   NFTA_LOOKUP_DREG   = NFT_REG_1
        08000100 70756200          //   NFTA_LOOKUP_SET    = "pub"
        08000400 00000001          //   NFTA_LOOKUP_SET_ID = 1`,
    expr: { type: 'lookup', set: 'pub', setId: 1, sreg: 1, dreg: 1 },
  },
  {
    what: 'lookup reg 1 set nets invert (ip saddr != @nets)',
    bytes: hex`
      0b000100 6c6f6f6b 75700000
      28000280
        08000200 00000001          //   NFTA_LOOKUP_SREG   = NFT_REG_1
        09000100 6e657473 00000000 //   NFTA_LOOKUP_SET    = "nets"
        08000400 00000001          //   NFTA_LOOKUP_SET_ID = 1
        08000500 00000001          //   NFTA_LOOKUP_FLAGS  = NFT_LOOKUP_F_INV`,
    expr: { type: 'lookup', set: 'nets', setId: 1, sreg: 1, invert: true },
  },
  {
    what: 'lookup reg 1 set vm dreg 0 (a verdict map)',
    bytes: hex`
      0b000100 6c6f6f6b 75700000
      24000280
        08000200 00000001          //   NFTA_LOOKUP_SREG   = NFT_REG_1
        08000300 00000000          //   NFTA_LOOKUP_DREG   = NFT_REG_VERDICT
        07000100 766d0000          //   NFTA_LOOKUP_SET    = "vm"
        08000400 00000003          //   NFTA_LOOKUP_SET_ID = 3`,
    expr: { type: 'lookup', set: 'vm', setId: 3, sreg: 1, dreg: 0 },
  },
  {
    what: 'dynset update reg_key 1 set dyn',
    bytes: hex`
      0b000100 64796e73 65740000   // "dynset"
      24000280
        08000400 00000001          //   NFTA_DYNSET_SREG_KEY = NFT_REG_1
        08000300 00000001          //   NFTA_DYNSET_OP       = NFT_DYNSET_OP_UPDATE
        08000100 64796e00          //   NFTA_DYNSET_SET_NAME = "dyn"
        08000200 00000005          //   NFTA_DYNSET_SET_ID   = 5`,
    expr: { type: 'dynset', set: 'dyn', setId: 5, op: 'update', sregKey: 1 },
  },
  {
    what: 'dynset add reg_key 1 set dyn with a limit per element',
    bytes: hex`
      0b000100 64796e73 65740000
      68000280
        08000400 00000001          //   NFTA_DYNSET_SREG_KEY = NFT_REG_1
        08000300 00000000          //   NFTA_DYNSET_OP       = NFT_DYNSET_OP_ADD
        08000100 64796e00          //   NFTA_DYNSET_SET_NAME = "dyn"
        08000200 00000002          //   NFTA_DYNSET_SET_ID   = 2
        44000780                   //   NFTA_DYNSET_EXPR: { NFTA_EXPR_NAME, NFTA_EXPR_DATA } directly
          0a000100 6c696d69 74000000 //   "limit"
          34000280
            0c000100 00000000 0000000a // NFTA_LIMIT_RATE  = 10 (be64)
            0c000200 00000000 00000001 // NFTA_LIMIT_UNIT  = 1 second (be64)
            08000300 00000005          // NFTA_LIMIT_BURST = 5
            08000400 00000000          // NFTA_LIMIT_TYPE  = NFT_LIMIT_PKTS
            08000500 00000000          // NFTA_LIMIT_FLAGS = 0`,
    expr: { type: 'dynset', set: 'dyn', setId: 2, op: 'add', sregKey: 1, exprs: [{ type: 'limit', rate: 10n, unit: 1n, burst: 5, kind: 'packets' }] },
  },
  {
    what: 'range neq reg 1 1000 2000 (tcp dport != 1000-2000)',
    bytes: hex`
      0a000100 72616e67 65000000   // "range"
      2c000280
        08000100 00000001          //   NFTA_RANGE_SREG = NFT_REG_1
        08000200 00000001          //   NFTA_RANGE_OP   = NFT_RANGE_NEQ
        0c000380 06000100 03e80000 //   NFTA_RANGE_FROM_DATA { value 03 e8 }
        0c000480 06000100 07d00000 //   NFTA_RANGE_TO_DATA   { value 07 d0 }`,
    expr: { type: 'range', sreg: 1, op: 'neq', from: b('03e8'), to: b('07d0') },
  },
  {
    what: 'log prefix "dns "',
    bytes: hex`
      08000100 6c6f6700            // "log"
      10000280
        09000200 646e7320 00000000 //   NFTA_LOG_PREFIX = "dns "`,
    expr: { type: 'log', prefix: 'dns ' },
  },
  {
    what: 'log prefix "g" group 2',
    bytes: hex`
      08000100 6c6f6700
      14000280
        06000200 67000000          //   NFTA_LOG_PREFIX = "g"
        06000100 00020000          //   NFTA_LOG_GROUP  = 2 (be16)`,
    expr: { type: 'log', prefix: 'g', group: 2 },
  },
  {
    what: 'limit rate 10/second burst 5 packets',
    bytes: hex`
      0a000100 6c696d69 74000000   // "limit"
      34000280
        0c000100 00000000 0000000a //   NFTA_LIMIT_RATE  = 10
        0c000200 00000000 00000001 //   NFTA_LIMIT_UNIT  = 1
        08000300 00000005          //   NFTA_LIMIT_BURST = 5
        08000400 00000000          //   NFTA_LIMIT_TYPE  = NFT_LIMIT_PKTS
        08000500 00000000          //   NFTA_LIMIT_FLAGS = 0`,
    expr: { type: 'limit', rate: 10n, unit: 1n, burst: 5, kind: 'packets' },
  },
  {
    what: 'reject type icmpx code port-unreachable (inet)',
    bytes: hex`
      0b000100 72656a65 63740000   // "reject"
      14000280
        08000100 00000002          //   NFTA_REJECT_TYPE      = NFT_REJECT_ICMPX_UNREACH
        05000200 01000000          //   NFTA_REJECT_ICMP_CODE = NFT_REJECT_ICMPX_PORT_UNREACH (u8)`,
    expr: { type: 'reject', kind: 'icmpx_unreach', code: 1 },
  },
  {
    what: 'reject with tcp reset',
    bytes: hex`
      0b000100 72656a65 63740000
      14000280
        08000100 00000001          //   NFTA_REJECT_TYPE      = NFT_REJECT_TCP_RST
        05000200 00000000          //   NFTA_REJECT_ICMP_CODE = 0`,
    expr: { type: 'reject', kind: 'tcp_rst', code: 0 },
  },
  {
    what: 'notrack (no NFTA_EXPR_DATA at all)',
    bytes: hex`0c000100 6e6f7472 61636b00 // "notrack"`,
    expr: { type: 'notrack' },
  },
];

const KERNEL: Fixture[] = [
  {
    what: 'ct load state => reg 1, as dumped (nests without NLA_F_NESTED)',
    bytes: hex`
      07000100 63740000
      14000200                     // NFTA_EXPR_DATA (no nested flag in dumps)
        08000100 00000001          //   NFTA_CT_DREG = NFT_REG_1
        08000200 00000000          //   NFTA_CT_KEY  = NFT_CT_STATE`,
    expr: { type: 'ct', key: 'state', dreg: 1 },
  },
  {
    what: 'bitwise: the kernel always dumps NFTA_BITWISE_OP',
    bytes: hex`
      0c000100 62697477 69736500
      3c000200
        08000100 00000001 08000200 00000001 08000300 00000004
        08000600 00000000          //   NFTA_BITWISE_OP = NFT_BITWISE_MASK_XOR
        0c000400 08000100 06000000 0c000500 08000100 00000000`,
    expr: { type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 'mask_xor', mask: b('06000000'), xor: b('00000000') },
  },
  {
    what: 'lookup: flags 0 dumped, no set id',
    bytes: hex`
      0b000100 6c6f6f6b 75700000
      20000200
        09000100 6e657473 00000000 //   NFTA_LOOKUP_SET  = "nets"
        08000200 00000001          //   NFTA_LOOKUP_SREG = NFT_REG_1
        08000500 00000000          //   NFTA_LOOKUP_FLAGS = 0`,
    expr: { type: 'lookup', set: 'nets', sreg: 1 },
  },
  {
    what: 'counter with its current values',
    bytes: hex`
      0c000100 636f756e 74657200
      1c000200
        0c000100 00000000 00000540 //   NFTA_COUNTER_BYTES   = 1344
        0c000200 00000000 00000010 //   NFTA_COUNTER_PACKETS = 16`,
    expr: { type: 'counter', bytes: 1344n, packets: 16n },
  },
  {
    what: 'nat: the kernel dumps ranges of one and the implied flags',
    bytes: hex`
      08000100 6e617400
      3c000200
        08000100 00000001 08000200 00000002
        08000300 00000001 08000400 00000001 // ADDR_MIN = ADDR_MAX = NFT_REG_1
        08000500 00000002 08000600 00000002 // PROTO_MIN = PROTO_MAX = NFT_REG_2
        08000700 00000003          //   NFTA_NAT_FLAGS = MAP_IPS | PROTO_SPECIFIED`,
    expr: { type: 'nat', kind: 'dnat', family: 'ip', regAddrMin: 1, regAddrMax: 1, regProtoMin: 2, regProtoMax: 2, flags: ['map_ips', 'proto_specified'] },
  },
  {
    what: 'log: level warn dumped by default',
    bytes: hex`
      08000100 6c6f6700
      18000200
        09000200 646e7320 00000000 //   NFTA_LOG_PREFIX = "dns "
        08000500 00000004          //   NFTA_LOG_LEVEL  = NFT_LOGLEVEL_WARNING`,
    expr: { type: 'log', prefix: 'dns ', level: 'warn' },
  },
  {
    what: 'dynset: timeout 0 and flags 0 dumped',
    bytes: hex`
      0b000100 64796e73 65740000
      30000200
        08000400 00000001 08000300 00000001 08000100 64796e00
        0c000600 00000000 00000000 //   NFTA_DYNSET_TIMEOUT = 0
        08000900 00000000          //   NFTA_DYNSET_FLAGS   = 0`,
    expr: { type: 'dynset', set: 'dyn', op: 'update', sregKey: 1, timeout: 0n },
  },
];

function encode(e: Expr): Buffer {
  const w = new Writer(64);
  encodeExprAttrs(w, e);
  return Buffer.from(w.finish());
}

describe('expressions as nft writes them: decode == expected, encode == bytes', () => {
  for (const f of NFT) {
    it(f.what, () => {
      expect(decodeExpr(f.bytes)).toEqual(f.expr);
      expect(encode(f.expr).toString('hex')).toBe(f.bytes.toString('hex'));
    });
  }

  it('covers every registered expression', () => {
    const covered = new Set(NFT.map((f) => f.expr.type));
    expect(registeredExprs().filter((n) => !covered.has(n as Expr['type']))).toEqual([]);
  });
});

describe('expressions as the kernel dumps them', () => {
  for (const f of KERNEL) {
    it(f.what, () => expect(decodeExpr(f.bytes)).toEqual(f.expr));
  }

  it('what the kernel dumped encodes back to an equivalent request', () => {
    for (const f of KERNEL) expect(decodeExpr(encode(f.expr))).toEqual(f.expr);
  });
});

describe('robustness', () => {
  it('keeps unknown expressions raw and encodes them back unchanged', () => {
    const bytes = hex`
      0a000100 71756f74 61000000   // "quota" (not modelled here)
      18000280 0c000100 00000000 00100000 08000200 00000000`;
    const e = decodeExpr(bytes);
    expect(e).toEqual({ type: 'unknown', name: 'quota', data: bytes.subarray(16) });
    expect(encode(e).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('keeps unknown attributes of a known expression and writes them back', () => {
    const bytes = hex`
      09000100 6d657461 00000000
      1c000280
        08000200 00000007
        08000100 00000001
        08000900 0000002a          //   attribute 9: not in this library's table`;
    const e = decodeExpr(bytes);
    expect(e).toEqual({ type: 'meta', key: 'oifname', dreg: 1, unknown: [{ type: 9, nested: false, value: b('0000002a') }] });
    expect(encode(e).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('a known expression missing a required attribute falls back to raw, with the reason', () => {
    const bytes = hex`07000100 63740000 0c000280 08000100 00000001 // ct with a dreg but no key`;
    expect(decodeExpr(bytes)).toMatchObject({ type: 'unknown', name: 'ct', error: 'ct: NFTA_CT_KEY is missing' });
  });

  it('a lying length is an error, never an out-of-bounds read', () => {
    expect(() => decodeExpr(hex`09000100 6d657461 00000000 ff000280 08000200`)).toThrow(NetlinkParseError);
    expect(() => decodeExprList(hex`40000100 09000100`)).toThrow(NetlinkParseError);
    // Inside NFTA_EXPR_DATA: the codec's parse error becomes a raw expression.
    expect(decodeExpr(hex`09000100 6d657461 00000000 0c000280 ff000200 00000007`)).toMatchObject({ type: 'unknown', name: 'meta' });
  });

  it('numbers this library has no name for pass through', () => {
    const e: Expr = { type: 'meta', key: 99, dreg: 1 };
    expect(decodeExpr(encode(e))).toEqual(e);
    const v: Expr = { type: 'immediate', dreg: 0, verdict: { code: 0x10003 } };
    expect(decodeExpr(encode(v))).toEqual(v);
  });

  it('lists of expressions round-trip', () => {
    const list = NFT.map((f) => f.expr);
    const w = new Writer(64);
    encodeExprList(w, 4, list);
    expect(decodeExprList(w.finish().subarray(4))).toEqual(list);
  });
});

describe('validation names the field', () => {
  const bad: [Expr | Record<string, unknown>, RegExp, ErrorConstructor][] = [
    [{ type: 'meta', key: 'oifname' }, /exactly one of dreg/, TypeError],
    [{ type: 'meta', key: 'nope', dreg: 1 }, /meta\.key must be one of/, TypeError],
    [{ type: 'meta', key: 'mark', dreg: 5 }, /meta\.dreg must be a register/, RangeError],
    [{ type: 'meta', key: 'mark', dreg: 1, typo: 1 }, /unknown field "typo"/, TypeError],
    [{ type: 'cmp', sreg: 1, op: 'eq', data: Buffer.alloc(65) }, /cmp\.data must be 1\.\.64 bytes/, RangeError],
    [{ type: 'cmp', sreg: 1, op: 'like', data: Buffer.alloc(1) }, /cmp\.op must be one of eq, neq/, TypeError],
    [{ type: 'payload', base: 'network', offset: -1, len: 4, dreg: 1 }, /payload\.offset must be an integer/, RangeError],
    [{ type: 'immediate', dreg: 1, verdict: { code: 'accept' } }, /register 0/, RangeError],
    [{ type: 'immediate', dreg: 0, verdict: { code: 'jump' } }, /jump needs a chain/, TypeError],
    [{ type: 'lookup', set: '', sreg: 1 }, /lookup\.set/, TypeError],
    [{ type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 'mask_xor', mask: Buffer.alloc(4) }, /needs mask and xor/, TypeError],
    [{ type: 'nat', kind: 'dnat', family: 'inet', regAddrMin: 1 }, /nat\.family must be one of ip, ip6/, TypeError],
    [{ type: 'frobnicate' }, /unknown nft expression type "frobnicate"/, TypeError],
  ];
  for (const [e, re, E] of bad) {
    it(`${JSON.stringify(e, (_k, v) => (v?.type === 'Buffer' ? '<buf>' : v))}`, () => {
      expect(() => encode(e as Expr)).toThrow(re);
      expect(() => encode(e as Expr)).toThrow(E);
    });
  }
});
