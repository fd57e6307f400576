// The firewall's kernel-free parts: argument parsing, the table layout and
// the way back from kernel rules to what was asked, the port index, the
// probe's overlap rules, and the rebuild transaction.
import { describe, expect, it } from 'vitest';
import { checkCidr, checkHostIp, checkRange, checkTag, ipv4Number, parseTarget, prefixMatcher } from '../../src/firewall/args.js';
import { overlaps } from '../../src/firewall/bound.js';
import { decodePostRule, FAMILY, fixedRules, fixedRulesIntact, masqueradeRules, PORT_MAPS, portMapSpec, postRuleExprs, type PostRule } from '../../src/firewall/layout.js';
import { writeElements } from '../../src/nft/set.js';
import { NFT_MSG_NEWSETELEM } from '../../src/wire/nfnetlink.js';
import { Writer } from '../../src/wire/netlink.js';
import type { SetSpec } from '../../src/nft/index.js';
import { clashWith, dropPort, emptyDesired, NsState, portElement, postFrom, putPort, rebuild, type PortEntry } from '../../src/firewall/state.js';
import { generationAfter } from '../../src/firewall/sync.js';
import { buildExprs, counter, ip, masquerade, meta, type Rule } from '../../src/nft/index.js';

describe('arguments', () => {
  it('parses targets', () => {
    expect(parseTarget('172.18.0.10:80')).toEqual({ family: 4, address: '172.18.0.10', port: 80 });
    expect(parseTarget('[FD00:18:0::10]:8443')).toEqual({ family: 6, address: 'fd00:18::10', port: 8443 });
    expect(parseTarget({ address: '10.0.0.1', port: 1 })).toEqual({ family: 4, address: '10.0.0.1', port: 1 });
    for (const bad of ['172.18.0.10', '172.18.0.10:', 'fd00::1:80', '[10.0.0.1]:80', 'host:80', '0.0.0.0:80', '[::]:80', 5, null, { address: '10.0.0.1', port: 1, x: 1 }]) {
      expect(() => parseTarget(bad), JSON.stringify(bad)).toThrow(TypeError);
    }
    for (const bad of ['10.0.0.1:0', '10.0.0.1:65536', '[fd00::1]:99999', { address: '10.0.0.1' }]) expect(() => parseTarget(bad), JSON.stringify(bad)).toThrow(RangeError);
  });

  it('host addresses: any, or one, in the kernel\'s text', () => {
    expect(checkHostIp(undefined)).toEqual({});
    expect(checkHostIp('0.0.0.0')).toEqual({ family: 4 });
    expect(checkHostIp('::')).toEqual({ family: 6 });
    expect(checkHostIp('2001:DB8::0:1')).toEqual({ family: 6, address: '2001:db8::1' });
    expect(() => checkHostIp('localhost')).toThrow(TypeError);
  });

  it('source networks are normalised to their network address', () => {
    expect(checkCidr('172.18.0.5/16')).toEqual({ family: 4, cidr: '172.18.0.0/16' });
    expect(checkCidr('fd00:18::7/64')).toEqual({ family: 6, cidr: 'fd00:18::/64' });
    expect(checkCidr('10.1.2.3')).toEqual({ family: 4, cidr: '10.1.2.3/32' });
    expect(() => checkCidr('10.0.0.0/33')).toThrow(RangeError);
    expect(() => checkCidr(7)).toThrow(TypeError);
  });

  it('ranges and tags', () => {
    expect(checkRange(undefined)).toEqual([49153, 60999]);
    expect(checkRange([1000, 1000])).toEqual([1000, 1000]);
    expect(() => checkRange([2, 1])).toThrow(RangeError);
    expect(() => checkRange([0, 1])).toThrow(RangeError);
    expect(() => checkRange(5)).toThrow(TypeError);
    expect(checkTag('x'.repeat(128))).toBe('x'.repeat(128));
    expect(() => checkTag('é'.repeat(65))).toThrow(RangeError);
    expect(() => checkTag('a\0b')).toThrow(TypeError);
  });

  it('matches addresses against prefixes', () => {
    expect(ipv4Number('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4Number('10.1.2.3')).toBe(0x0a010203);
    const m = prefixMatcher([
      { address: '172.18.0.1', prefix: 16 },
      { address: '10.0.0.1', prefix: 32 },
      { address: 'fd00:18::1', prefix: 64 },
    ]);
    expect(['172.18.255.3', '10.0.0.1', 'fd00:18::ffff'].map(m)).toEqual([true, true, true]);
    expect(['172.19.0.1', '10.0.0.2', 'fd00:19::1', '0.0.0.0'].map(m)).toEqual([false, false, false, false]);
    expect(prefixMatcher([{ address: '1.2.3.4', prefix: 0 }])('9.9.9.9')).toBe(true);
  });
});

describe('post rules', () => {
  const rules: PostRule[] = [
    { kind: 'masq', family: 4, source: '172.18.0.0/16', exceptOutInterface: 'br0' },
    { kind: 'masq', family: 4, source: '10.0.0.0/20' },
    { kind: 'masq', family: 4, source: '10.9.9.9/32', exceptOutInterface: 'eth0' },
    { kind: 'masq', family: 4, source: '0.0.0.0/0' },
    { kind: 'hairpin', family: 4, source: '172.18.0.0/16', iface: 'br0' },
    { kind: 'local', family: 4, iface: 'br-123456789012' },
    { kind: 'masq', family: 6, source: 'fd00:18::/64', exceptOutInterface: 'br0' },
    { kind: 'masq', family: 6, source: 'fd00:18::/60' },
    { kind: 'hairpin', family: 6, source: 'fd00:18::/64', iface: 'br0' },
  ];

  it('decode what they were built from', () => {
    for (const r of rules) expect(decodePostRule(buildExprs(FAMILY, postRuleExprs(r))), JSON.stringify(r)).toEqual(r);
  });

  it('do not mistake other rules for their own', () => {
    const foreign = [
      [ip.saddr.eq('172.18.0.0/16'), meta.oifname.neq('br0'), counter(), masquerade()],
      [ip.saddr.eq('172.18.0.0/16'), meta.oifname.neq('br0'), masquerade({ fullyRandom: true })],
      [ip.saddr.eq('172.18.0.0/16'), meta.oifname.neq('br*'), masquerade()],
      [ip.saddr.eq('172.18.0.0/16'), meta.iifname.neq('br0'), masquerade()],
      [ip.daddr.eq('172.18.0.0/16'), masquerade()],
      [ip.saddr.neq('172.18.0.0/16'), masquerade()],
      [meta.oifname.eq('br0'), masquerade()],
    ];
    for (const f of foreign) expect(decodePostRule(buildExprs(FAMILY, f))).toBeUndefined();
  });

  it('a masquerade through a bridge brings its hairpin and loopback rules (IPv4), only hairpin for IPv6', () => {
    expect(masqueradeRules({ family: 4, source: '172.18.0.0/16', exceptOutInterface: 'br0' }).map((r) => r.kind)).toEqual(['masq', 'hairpin', 'local']);
    expect(masqueradeRules({ family: 6, source: 'fd00::/64', exceptOutInterface: 'br0' }).map((r) => r.kind)).toEqual(['masq', 'hairpin']);
    expect(masqueradeRules({ family: 4, source: '10.0.0.0/8' }).map((r) => r.kind)).toEqual(['masq']);
  });

  it('postFrom keeps netweave\'s rules with handles and tags and counts the others', () => {
    const mk = (chain: string, handle: number, exprs: any, comment?: string): Rule => ({ family: FAMILY, table: 'netweave', chain, handle, exprs: buildExprs(FAMILY, exprs), ...(comment ? { comment } : {}) });
    const into = new Map();
    const foreign = postFrom(
      [
        mk('post', 5, postRuleExprs(rules[0]), 'nw:a'),
        mk('post', 6, [ip.saddr.eq('1.2.3.0/24'), counter(), masquerade()]),
        mk('post', 7, postRuleExprs(rules[0])),
        mk('pre', 8, postRuleExprs(rules[1])),
      ],
      into,
    );
    expect(foreign).toBe(2);
    expect([...into.values()]).toEqual([{ rule: rules[0], handle: 5, comment: 'nw:a' }]);
  });

  it('fixed rules are recognised, and a missing or changed one is not', () => {
    const built = fixedRules().map((r, i) => ({ family: FAMILY, table: 'netweave', chain: r.chain, handle: i + 1, exprs: buildExprs(FAMILY, r.exprs) }) as Rule);
    expect(fixedRulesIntact(built)).toBe(true);
    expect(fixedRulesIntact(built.slice(1))).toBe(false);
    const changed = built.map((r, i) => (i === 0 ? { ...r, exprs: r.exprs.slice(1) } : r));
    expect(fixedRulesIntact(changed)).toBe(false);
  });
});

describe('port state', () => {
  const port = (p: Partial<PortEntry>): PortEntry => ({ family: 4, hostPort: 8080, protocol: 'tcp', to: { address: '172.18.0.10', port: 80 }, ...p });

  it('any-address ports clash with every address\'s; two addresses share a port; families and protocols are apart', () => {
    const d = emptyDesired();
    putPort(d, port({ hostIp: '10.0.0.1' }));
    expect(clashWith(d, port({ hostIp: '10.0.0.2' }))).toBeUndefined();
    expect(clashWith(d, port({}))).toMatchObject({ hostIp: '10.0.0.1' });
    expect(clashWith(d, port({ hostIp: '10.0.0.1' }))).toBeDefined();
    expect(clashWith(d, port({ protocol: 'udp' }))).toBeUndefined();
    expect(clashWith(d, port({ family: 6 }))).toBeUndefined();
    putPort(d, port({ hostIp: '10.0.0.2' }));
    dropPort(d, port({ hostIp: '10.0.0.1' }));
    expect(clashWith(d, port({}))).toMatchObject({ hostIp: '10.0.0.2' });
    dropPort(d, port({ hostIp: '10.0.0.2' }));
    expect(clashWith(d, port({}))).toBeUndefined();
    expect(d.portIndex.size).toBe(0);
    putPort(d, port({ tag: 'a' }));
    putPort(d, port({ tag: 'b' }));
    expect(d.ports.size).toBe(1);
    expect([...d.portIndex.values()]).toEqual([[expect.objectContaining({ tag: 'b' })]]);
    // Family, protocol and port each keep entries apart.
    putPort(d, port({ protocol: 'udp' }));
    putPort(d, port({ hostPort: 8081 }));
    expect(d.portIndex.size).toBe(3);
    expect(clashWith(d, port({ protocol: 'udp' }))).toMatchObject({ protocol: 'udp', hostPort: 8080 });
    expect(clashWith(d, { family: 6, protocol: 'tcp', hostPort: 8080 })).toBeUndefined();
  });

  it('map elements carry the key, the target and the tag', () => {
    expect(portElement(port({ tag: 't' }))).toEqual({ key: ['tcp', 8080], data: ['172.18.0.10', 80], comment: 't' });
    expect(portElement(port({ hostIp: '10.0.0.1' }))).toEqual({ key: ['10.0.0.1', 'tcp', 8080], data: ['172.18.0.10', 80] });
  });

  it('a rebuild is one transaction that replaces the table', () => {
    const d = emptyDesired();
    putPort(d, port({}));
    putPort(d, port({ family: 6, to: { address: 'fd00::10', port: 80 } }));
    d.isolate.set('a b', ['a', 'b']);
    for (const rule of masqueradeRules({ family: 4, source: '172.18.0.0/16', exceptOutInterface: 'br0' })) d.post.set(JSON.stringify(rule), { rule, handle: 0 });
    const { tx, post } = rebuild(d);
    expect(post).toHaveLength(3);
    expect(tx.describe()).toEqual([
      'destroy table inet netweave',
      'add table inet netweave',
      'add chain inet netweave pre',
      'add chain inet netweave out',
      'add chain inet netweave post',
      'add chain inet netweave fwd',
      'add set inet netweave pub4a',
      'add set inet netweave pub4',
      'add set inet netweave pub6a',
      'add set inet netweave pub6',
      'add set inet netweave isolate',
      'add 1 element to set inet netweave pub4',
      'add 1 element to set inet netweave pub6',
      'add 1 element to set inet netweave isolate',
      ...fixedRules().map((r) => `add rule inet netweave ${r.chain}`),
      'add rule inet netweave post',
      'add rule inet netweave post',
      'add rule inet netweave post',
    ]);
  });

  it('generations count up by one per commit and skip 0', () => {
    expect(generationAfter(7)).toBe(8);
    expect(generationAfter(0xffffffff)).toBe(1);
  });
});

describe('probe overlaps (sock_diag)', () => {
  const s = (family: 4 | 6, address: string) => ({ family, protocol: 'tcp' as const, address, port: 1 });
  it('follows bind(2): same address or either unspecified; dual-stack IPv6 sockets hold the IPv4 port', () => {
    expect(overlaps(s(4, '0.0.0.0'), 4, '10.0.0.1')).toBe(true);
    expect(overlaps(s(4, '10.0.0.1'), 4, undefined)).toBe(true);
    expect(overlaps(s(4, '10.0.0.1'), 4, '10.0.0.1')).toBe(true);
    expect(overlaps(s(4, '10.0.0.1'), 4, '10.0.0.2')).toBe(false);
    expect(overlaps(s(6, '::'), 4, '10.0.0.1')).toBe(true);
    expect(overlaps(s(6, '::ffff:10.0.0.1'), 4, '10.0.0.1')).toBe(true);
    expect(overlaps(s(6, '::ffff:10.0.0.1'), 4, '10.0.0.2')).toBe(false);
    expect(overlaps(s(6, 'fd00::1'), 4, undefined)).toBe(false);
    expect(overlaps(s(4, '10.0.0.1'), 6, undefined)).toBe(true);
    expect(overlaps(s(4, '10.0.0.1'), 6, 'fd00::1')).toBe(false);
    expect(overlaps(s(6, 'fd00::1'), 6, 'fd00::2')).toBe(false);
  });
});

describe('port map specs', () => {
  it('are one frozen object per map, and encode elements exactly as an equal unfrozen spec does', () => {
    for (const m of PORT_MAPS) {
      const spec = portMapSpec(m);
      expect(portMapSpec(m)).toBe(spec);
      expect(Object.isFrozen(spec) && Object.isFrozen(spec.key)).toBe(true);
      const copy = JSON.parse(JSON.stringify(spec));
      const e: PortEntry = { family: m.family, protocol: 'tcp', hostPort: 8080, to: { address: m.family === 4 ? '172.18.0.10' : 'fd00::10', port: 80 } };
      if (m.byAddress) e.hostIp = m.family === 4 ? '192.0.2.1' : '2001:db8::1';
      const bytes = (s: SetSpec) => {
        const w = new Writer();
        writeElements(w, 0, NFT_MSG_NEWSETELEM, s, [portElement(e), portElement({ ...e, hostPort: 8081 })]);
        return w.finish().toString('hex');
      };
      expect(bytes(spec)).toBe(bytes(copy));
      // A spec that can change is read again each time: its types follow it.
      copy.data = ['ipv4_addr', 'inet_service'];
      if (m.family === 6) expect(() => bytes(copy)).toThrow();
    }
  });
});

describe('the namespace lock', () => {
  const tick = () => new Promise((r) => setImmediate(r));
  it('runs a call at once when none is under way, and queues the others behind it in order', async () => {
    const st = new NsState();
    const log: string[] = [];
    let release!: () => void;
    const first = st.locked(async () => {
      log.push('a starts');
      await new Promise<void>((r) => (release = r));
      log.push('a ends');
      return 'a';
    });
    expect(log).toEqual(['a starts']); // no turn of the microtask queue first
    const second = st.locked(async () => {
      log.push('b');
      return 'b';
    });
    const third = st.locked(async () => {
      log.push('c');
      throw new Error('c failed');
    });
    const fourth = st.locked(async () => {
      log.push('d');
      return 'd';
    });
    await tick();
    expect(log).toEqual(['a starts']);
    release();
    expect(await first).toBe('a');
    expect(await second).toBe('b');
    await expect(third).rejects.toThrow('c failed');
    expect(await fourth).toBe('d');
    expect(log).toEqual(['a starts', 'a ends', 'b', 'c', 'd']);
    // Free again: the next one runs at once.
    let ran = false;
    const fifth = st.locked(async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    await fifth;
  });

  it('makes a call from inside a running one wait for it, and survives a function that throws before returning a promise', async () => {
    const st = new NsState();
    const log: string[] = [];
    let inner: Promise<void> | undefined;
    await st.locked(async () => {
      inner = st.locked(async () => {
        log.push('inner');
      });
      await tick();
      log.push('outer');
    });
    await inner;
    expect(log).toEqual(['outer', 'inner']);
    await expect(st.locked((() => { throw new Error('sync'); }) as never)).rejects.toThrow('sync');
    expect(await st.locked(async () => 'after')).toBe('after');
  });
});
