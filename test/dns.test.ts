// The embedded DNS server against real sockets: queries are sent from inside
// throw-away namespaces to 127.0.0.11:53; the upstream is a fake server in
// the sandbox's own namespace on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { EventEmitter, once } from 'node:events';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet, Question } from 'dns-packet';
import { NsScope, ipRun } from './helpers.js';
import type { Namespace } from '../src/namespace.js';
import { DnsServer, containerResolvConf, parseResolvConf, parseUpstream, reverseNameToIp } from '../src/network/dns.js';

const RESOLVER = '127.0.0.11';
/** Guard against hanging forever; never asserted on. */
const GUARD_MS = 10_000;

type Reply = DecodedPacket & { rcode: string };

let nextId = 0x1200;
function query(name: string, type: Question['type'], extra: Partial<Packet> = {}): Packet {
  return { type: 'query', id: nextId++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], ...extra };
}

/** One query over UDP from inside ns through a connected socket: resolves with the reply, rejects on ECONNREFUSED. */
async function udpAsk(ns: Namespace, packet: Packet, port = 53): Promise<Reply> {
  const sock = await ns.createDgram();
  try {
    sock.connect(port, RESOLVER);
    await once(sock, 'connect');
    const reply = new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply (guard)')), GUARD_MS);
      sock.once('message', (m) => (clearTimeout(t), resolve(m)));
      sock.once('error', (e) => (clearTimeout(t), reject(e)));
    });
    sock.send(dnsPacket.encode(packet));
    return dnsPacket.decode(await reply) as Reply;
  } finally {
    sock.close();
  }
}

/** Reads n length-prefixed messages from a TCP socket. */
function readFrames(sock: net.Socket, n: number): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: Reply[] = [];
    const t = setTimeout(() => reject(new Error('no reply (guard)')), GUARD_MS);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as Reply);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= n) {
        clearTimeout(t);
        resolve(out);
      }
    });
    sock.once('error', (e) => (clearTimeout(t), reject(e)));
  });
}

async function tcpAsk(ns: Namespace, ...packets: Packet[]): Promise<Reply[]> {
  const sock = await ns.connect({ host: RESOLVER, port: 53 });
  try {
    const replies = readFrames(sock, packets.length);
    sock.write(Buffer.concat(packets.map((p) => dnsPacket.streamEncode(p))));
    return await replies;
  } finally {
    sock.destroy();
  }
}

const data = (r: Reply): string[] => (r.answers ?? []).map((a) => String((a as { data: unknown }).data)).sort();

/** The fake upstream: fixed answers, over UDP and TCP on the same port of 127.0.0.1. */
class FakeUpstream {
  readonly seen: { name: string; id: number; transport: string }[] = [];
  readonly events = new EventEmitter();
  udp = dgram.createSocket('udp4');
  tcp = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        for (const r of this.respond(msg, 'tcp')) c.write(dnsPacket.streamEncode(r));
      }
    });
    c.on('error', () => {});
  });
  port = 0;

  async start(): Promise<void> {
    this.udp.on('message', (msg, rinfo) => {
      for (const r of this.respond(msg, 'udp')) this.udp.send(dnsPacket.encode(r), rinfo.port, rinfo.address);
    });
    this.udp.bind(0, '127.0.0.1');
    await once(this.udp, 'listening');
    this.port = this.udp.address().port;
    this.tcp.listen(this.port, '127.0.0.1');
    await once(this.tcp, 'listening');
  }

  private respond(msg: Buffer, transport: string): Packet[] {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0];
    this.seen.push({ name: question.name, id: q.id!, transport });
    this.events.emit('query', question.name);
    const answer = (id: number, ip: string, rcode = 0): Packet => ({
      type: 'response',
      id,
      flags: dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: [question],
      answers: ip ? [{ type: 'A', name: question.name, ttl: 30, data: ip }] : [],
    });
    switch (question.name) {
      case 'example.test':
        return [answer(q.id!, transport === 'tcp' ? '192.0.2.80' : '192.0.2.53')];
      case 'spoof.test':
        // A reply with the wrong id first: it must be ignored.
        return [answer(q.id! ^ 0x5a5a, '203.0.113.66'), answer(q.id!, '192.0.2.54')];
      case 'silent.test':
        return [];
      default:
        return [answer(q.id!, '', 3)];
    }
  }

  forwarded(name: string): number {
    return this.seen.filter((s) => s.name === name).length;
  }

  close(): void {
    this.udp.close();
    this.tcp.close();
  }
}

describe('DnsServer in namespaces', () => {
  const scope = new NsScope();
  const upstream = new FakeUpstream();
  let dns: DnsServer;
  let nsA: Namespace;
  let nsB: Namespace;

  beforeAll(async () => {
    await upstream.start();
    nsA = await scope.create('dnsa');
    nsB = await scope.create('dnsb');
    for (const ns of [nsA, nsB]) ipRun(ns, 'link', 'set', 'lo', 'up');
    dns = new DnsServer({ upstream: [`127.0.0.1:${upstream.port}`], timeoutMs: 300 });
    dns.setRecords('neta', [
      { name: 'web', aliases: ['www', 'Frontend', 'pool'], addresses: ['172.18.0.2', 'fd00:18::2'] },
      { name: 'db', aliases: ['pool'], addresses: ['172.18.0.3'] },
    ]);
    dns.addRecord('netb', { name: 'api', aliases: ['svc'], addresses: ['172.19.0.2'] });
    expect(await dns.attach(nsA, { zones: ['neta'] })).toEqual({ address: RESOLVER, udpPort: 53, tcpPort: 53 });
    await dns.attach(nsB, { zones: ['netb'] });
  });

  afterAll(async () => {
    await dns?.close();
    upstream.close();
    await scope.cleanup();
  });

  it('answers names and aliases of its zone, case-insensitively, with the client id', async () => {
    const q = query('web', 'A');
    const r = await udpAsk(nsA, q);
    expect(r.id).toBe(q.id);
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_aa).toBe(true);
    expect(r.flag_rd).toBe(true);
    expect(r.answers).toEqual([{ type: 'A', name: 'web', ttl: 600, class: 'IN', flush: false, data: '172.18.0.2' }]);
    expect(data(await udpAsk(nsA, query('WWW.', 'A')))).toEqual(['172.18.0.2']);
    expect(data(await udpAsk(nsA, query('frontend', 'A')))).toEqual(['172.18.0.2']);
    expect(data(await udpAsk(nsA, query('web', 'AAAA')))).toEqual(['fd00:18::2']);
    // container.network, as dockerd resolves it.
    expect(data(await udpAsk(nsA, query('db.neta', 'A')))).toEqual(['172.18.0.3']);
    expect(data(await udpAsk(nsB, query('api', 'A')))).toEqual(['172.19.0.2']);
    expect(data(await udpAsk(nsB, query('svc', 'A')))).toEqual(['172.19.0.2']);
  });

  it("does not answer another zone's names: they go upstream (NXDOMAIN there)", async () => {
    const before = upstream.forwarded('api');
    const r = await udpAsk(nsA, query('api', 'A'));
    expect(r.rcode).toBe('NXDOMAIN');
    expect(r.answers).toEqual([]);
    expect(upstream.forwarded('api')).toBe(before + 1);
    expect((await udpAsk(nsB, query('web', 'A'))).rcode).toBe('NXDOMAIN');
    expect((await udpAsk(nsB, query('web.neta', 'A'))).rcode).toBe('NXDOMAIN');
  });

  it('an alias shared by two containers returns both addresses', async () => {
    expect(data(await udpAsk(nsA, query('pool', 'A')))).toEqual(['172.18.0.2', '172.18.0.3']);
  });

  it('a known name without records of the type is NODATA, not forwarded', async () => {
    const r = await udpAsk(nsA, query('db', 'AAAA'));
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers).toEqual([]);
    expect((await udpAsk(nsA, query('db', 'MX'))).answers).toEqual([]);
    expect(upstream.forwarded('db')).toBe(0);
  });

  it('answers reverse lookups for its zone with name.zone', async () => {
    const r = await udpAsk(nsA, query('2.0.18.172.in-addr.arpa', 'PTR'));
    expect(r.answers).toMatchObject([{ type: 'PTR', data: 'web.neta' }]);
    const v6 = '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.1.0.0.0.0.d.f.ip6.arpa';
    expect((await udpAsk(nsA, query(v6, 'PTR'))).answers).toMatchObject([{ type: 'PTR', data: 'web.neta' }]);
    // Not in this namespace's zones: forwarded.
    expect((await udpAsk(nsB, query('2.0.18.172.in-addr.arpa', 'PTR'))).rcode).toBe('NXDOMAIN');
  });

  it('forwards unknown names and relays the answer with the client id', async () => {
    const q = query('example.test', 'A');
    const r = await udpAsk(nsA, q);
    expect(r.id).toBe(q.id);
    expect(r.rcode).toBe('NOERROR');
    expect(data(r)).toEqual(['192.0.2.53']);
    expect(upstream.seen.filter((s) => s.name === 'example.test').map((s) => s.transport)).toEqual(['udp']);
  });

  it('ignores an upstream reply with the wrong id', async () => {
    const r = await udpAsk(nsB, query('spoof.test', 'A'));
    expect(data(r)).toEqual(['192.0.2.54']);
  });

  it('answers SERVFAIL when no upstream answers in time', async () => {
    const q = query('silent.test', 'A');
    const r = await udpAsk(nsA, q);
    expect(r.id).toBe(q.id);
    expect(r.rcode).toBe('SERVFAIL');
    expect(upstream.forwarded('silent.test')).toBe(1);
  });

  it('answers SERVFAIL at once without upstreams', async () => {
    const lonely = new DnsServer({ upstream: [] });
    const ns = await scope.create('dnsc');
    ipRun(ns, 'link', 'set', 'lo', 'up');
    try {
      const at = await lonely.attach(ns, { zones: ['neta'], port: 0 });
      expect(at.udpPort).not.toBe(53);
      expect((await udpAsk(ns, query('example.test', 'A'), at.udpPort)).rcode).toBe('SERVFAIL');
      // Its zones are its own: 'neta' is empty in this server.
      expect((await udpAsk(ns, query('web', 'A'), at.udpPort)).rcode).toBe('SERVFAIL');
    } finally {
      await lonely.close();
    }
  });

  it('close() with a forward in flight drops it and leaks no socket or timer', async () => {
    const count = (kind: string) => process.getActiveResourcesInfo().filter((k) => k === kind).length;
    const ns = await scope.create('dnsd');
    ipRun(ns, 'link', 'set', 'lo', 'up');
    const client = await ns.createDgram();
    const udpBefore = count('UDPWrap');
    const timersBefore = count('Timeout');
    const slow = new DnsServer({ upstream: [`127.0.0.1:${upstream.port}`], timeoutMs: 60_000 });
    const at = await slow.attach(ns, { zones: [], port: 0 });
    const reached = new Promise<void>((resolve) => {
      const on = (name: string) => name === 'silent.test' && (upstream.events.off('query', on), resolve());
      upstream.events.on('query', on);
    });
    client.send(dnsPacket.encode(query('silent.test', 'A')), at.udpPort, RESOLVER);
    await reached;
    // Server socket + the exchange's socket, and the exchange's timer.
    expect(count('UDPWrap')).toBe(udpBefore + 2);
    expect(count('Timeout')).toBe(timersBefore + 1);
    await slow.close();
    // Handles go away in the close phase of the loop iteration after close().
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(count('UDPWrap')).toBe(udpBefore);
    expect(count('Timeout')).toBe(timersBefore);
    client.close();
  });

  it('serves TCP: local names, pipelined queries, and forwarding over TCP', async () => {
    const [a, b] = await tcpAsk(nsA, query('web', 'A'), query('db', 'A'));
    const byName = new Map([a, b].map((r) => [r.questions![0].name, r]));
    expect(data(byName.get('web')!)).toEqual(['172.18.0.2']);
    expect(data(byName.get('db')!)).toEqual(['172.18.0.3']);
    const q = query('example.test', 'A');
    const [fwd] = await tcpAsk(nsB, q);
    expect(fwd.id).toBe(q.id);
    expect(data(fwd)).toEqual(['192.0.2.80']);
    expect(upstream.seen.some((s) => s.name === 'example.test' && s.transport === 'tcp')).toBe(true);
  });

  it('truncates a UDP answer that does not fit and gives it whole over TCP', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `10.60.0.${i + 1}`);
    dns.addRecord('neta', { name: 'big', addresses: many });
    try {
      const small = await udpAsk(nsA, query('big', 'A'));
      expect(small.flag_tc).toBe(true);
      expect(small.answers!.length).toBeGreaterThan(0);
      expect(small.answers!.length).toBeLessThan(60);
      expect(dnsPacket.encodingLength(small)).toBeLessThanOrEqual(512);
      // EDNS with a bigger buffer: fits.
      const edns = query('big', 'A', {
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
      });
      const large = await udpAsk(nsA, edns);
      expect(large.flag_tc).toBe(false);
      expect(data(large)).toEqual([...many].sort());
      expect(large.additionals).toMatchObject([{ type: 'OPT' }]);
      const [whole] = await tcpAsk(nsA, query('big', 'A'));
      expect(whole.flag_tc).toBe(false);
      expect(data(whole)).toEqual([...many].sort());
    } finally {
      dns.removeRecord('neta', 'big');
    }
  });

  it('follows record and zone changes live', async () => {
    dns.addRecord('netb', { name: 'cache', addresses: ['172.19.0.9'] });
    expect(data(await udpAsk(nsB, query('cache', 'A')))).toEqual(['172.19.0.9']);
    expect(dns.removeRecord('netb', 'cache')).toBe(true);
    expect((await udpAsk(nsB, query('cache', 'A'))).rcode).toBe('NXDOMAIN');

    dns.setZones(nsB, ['netb', 'neta']);
    expect(data(await udpAsk(nsB, query('web', 'A')))).toEqual(['172.18.0.2']);
    dns.setZones(nsB, ['netb']);
    expect((await udpAsk(nsB, query('web', 'A'))).rcode).toBe('NXDOMAIN');
  });

  it('answers FORMERR to a malformed query and NOTIMP to other opcodes', async () => {
    const sock = await nsA.createDgram();
    try {
      sock.connect(53, RESOLVER);
      await once(sock, 'connect');
      // A header announcing one question, without the question.
      const header = dnsPacket.encode({ type: 'query', id: 0x4242, questions: [] });
      header.writeUInt16BE(1, 4);
      sock.send(header);
      const [m] = (await once(sock, 'message')) as [Buffer];
      const r = dnsPacket.decode(m) as Reply;
      expect(r.id).toBe(0x4242);
      expect(r.rcode).toBe('FORMERR');
    } finally {
      sock.close();
    }
    const notify = query('web', 'A', { flags: 4 << 11 });
    const r = await udpAsk(nsA, notify);
    expect(r.rcode).toBe('NOTIMP');
  });

  it('says so when lo is down or the address is not there, and leaves nothing behind', async () => {
    const ns = await scope.create('dnse');
    await expect(dns.attach(ns, { zones: ['neta'] })).rejects.toMatchObject({ code: 'ENETUNREACH', message: expect.stringMatching(/is lo up/) });
    expect(await dns.detach(ns)).toBe(false);
    ipRun(ns, 'link', 'set', 'lo', 'up');
    await dns.attach(ns, { zones: ['neta'] });
    expect(data(await udpAsk(ns, query('db', 'A')))).toEqual(['172.18.0.3']);
    expect(await dns.detach(ns)).toBe(true);
    await expect(dns.attach(ns, { zones: ['neta'], address: '10.99.0.1' })).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
  });

  it('refuses a second attach to the same namespace and bad arguments', async () => {
    await expect(dns.attach(nsA, { zones: ['neta'] })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(dns.attach(nsA, { zones: ['bad name'] })).rejects.toThrow(/zones\[0\]/);
    await expect(dns.attach(nsA, { zones: ['neta'], port: 70000 })).rejects.toThrow(RangeError);
    expect(() => dns.addRecord('neta', { name: 'web', addresses: ['172.18.0.9'] })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => dns.addRecord('neta', { name: 'x', addresses: ['300.1.1.1'] })).toThrow(/record.addresses\[0\]/);
    expect(() => dns.addRecord('neta', { name: '-', aliases: ['a..b'], addresses: [] })).toThrow(/record.aliases\[0\]/);
  });

  it('after detach the namespace gets no answer; others still do', async () => {
    expect(await dns.detach(nsA)).toBe(true);
    expect(await dns.detach(nsA)).toBe(false);
    await expect(udpAsk(nsA, query('web', 'A'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(nsA.connect({ host: RESOLVER, port: 53 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(data(await udpAsk(nsB, query('api', 'A')))).toEqual(['172.19.0.2']);
    // And it can be attached again.
    await dns.attach(nsA, { zones: ['neta'] });
    expect(data(await udpAsk(nsA, query('web', 'A')))).toEqual(['172.18.0.2']);
  });
});

describe('DNS helpers', () => {
  it('container resolv.conf text', () => {
    expect(containerResolvConf()).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    expect(containerResolvConf({ search: ['corp.example'], options: ['ndots:2', 'timeout:1'] })).toBe(
      'nameserver 127.0.0.11\nsearch corp.example\noptions ndots:2 timeout:1\n',
    );
    expect(() => containerResolvConf({ nameserver: 'x' })).toThrow(/nameserver/);
    expect(() => containerResolvConf({ options: ['a b'] })).toThrow(/options\[0\]/);
  });

  it('parses resolv.conf', () => {
    const text = '# comment\nnameserver 10.0.0.2\nnameserver fe80::1%eth0 ; scoped\nnameserver bogus\ndomain a.example\nsearch b.example c.example\noptions ndots:1 edns0\n';
    expect(parseResolvConf(text)).toEqual({
      nameservers: ['10.0.0.2', 'fe80::1%eth0'],
      search: ['b.example', 'c.example'],
      options: ['ndots:1', 'edns0'],
    });
  });

  it('parses upstream addresses', () => {
    expect(parseUpstream('1.1.1.1')).toEqual({ host: '1.1.1.1', port: 53, family: 4 });
    expect(parseUpstream('10.0.0.2:5353')).toEqual({ host: '10.0.0.2', port: 5353, family: 4 });
    expect(parseUpstream('[::1]:5353')).toEqual({ host: '::1', port: 5353, family: 6 });
    expect(parseUpstream('2001:db8::53')).toEqual({ host: '2001:db8::53', port: 53, family: 6 });
    expect(() => parseUpstream('dns.google')).toThrow(TypeError);
    expect(() => parseUpstream('1.1.1.1:0')).toThrow(RangeError);
    expect(() => new DnsServer({ upstream: ['nope'] })).toThrow(/upstream\[0\]/);
  });

  it('maps reverse names to addresses', () => {
    expect(reverseNameToIp('4.3.2.1.IN-ADDR.ARPA.')).toBe('1.2.3.4');
    expect(reverseNameToIp('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa')).toBe('2001:db8::1');
    expect(reverseNameToIp('3.2.1.in-addr.arpa')).toBeUndefined();
    expect(reverseNameToIp('256.3.2.1.in-addr.arpa')).toBeUndefined();
    expect(reverseNameToIp('example.com')).toBeUndefined();
  });
});
