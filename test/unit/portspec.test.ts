import { describe, expect, it } from 'vitest';
import { formatPortMapping, parsePortSpec, parsePortSpecs } from '../../src/network/portspec.js';

describe('parsePortSpec: the -p forms', () => {
  it('container port only: any host port', () => {
    expect(parsePortSpec('80')).toEqual([{ containerPort: 80, protocol: 'tcp' }]);
  });

  it('host:container', () => {
    expect(parsePortSpec('8080:80')).toEqual([{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    expect(parsePortSpec(':80')).toEqual([{ containerPort: 80, protocol: 'tcp' }]);
  });

  it('ip:host:container and ip::container', () => {
    expect(parsePortSpec('127.0.0.1:8080:80')).toEqual([{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    expect(parsePortSpec('127.0.0.1::80')).toEqual([{ hostIp: '127.0.0.1', containerPort: 80, protocol: 'tcp' }]);
    expect(parsePortSpec('0.0.0.0:53:53/udp')).toEqual([{ hostIp: '0.0.0.0', hostPort: 53, containerPort: 53, protocol: 'udp' }]);
  });

  it('IPv6 host addresses, bracketed or (as dockerd accepts) bare, canonicalised', () => {
    expect(parsePortSpec('[::1]:8080:80')).toEqual([{ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    expect(parsePortSpec('[2001:DB8::0:1]::80/udp')).toEqual([{ hostIp: '2001:db8::1', containerPort: 80, protocol: 'udp' }]);
    expect(parsePortSpec('::1:8080:80')).toEqual([{ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  });

  it('protocol suffix, case-insensitive; sctp as dockerd', () => {
    expect(parsePortSpec('53/udp')[0].protocol).toBe('udp');
    expect(parsePortSpec('53/UDP')[0].protocol).toBe('udp');
    expect(parsePortSpec('80/tcp')[0].protocol).toBe('tcp');
    expect(parsePortSpec('9/sctp')[0].protocol).toBe('sctp');
  });

  it('ranges map pairwise', () => {
    expect(parsePortSpec('8000-8002:80-82/udp')).toEqual([
      { hostPort: 8000, containerPort: 80, protocol: 'udp' },
      { hostPort: 8001, containerPort: 81, protocol: 'udp' },
      { hostPort: 8002, containerPort: 82, protocol: 'udp' },
    ]);
    expect(parsePortSpec('127.0.0.1::5000-5001')).toEqual([
      { hostIp: '127.0.0.1', containerPort: 5000, protocol: 'tcp' },
      { hostIp: '127.0.0.1', containerPort: 5001, protocol: 'tcp' },
    ]);
    expect(parsePortSpec('80-80:90-90')).toEqual([{ hostPort: 80, containerPort: 90, protocol: 'tcp' }]);
  });

  it('a host range for one container port means any free port of the range', () => {
    expect(parsePortSpec('8000-8010:80')).toEqual([{ hostPort: 8000, hostPortEnd: 8010, containerPort: 80, protocol: 'tcp' }]);
  });

  it('port bounds 1 and 65535 are accepted', () => {
    expect(parsePortSpec('65535:1')).toEqual([{ hostPort: 65535, containerPort: 1, protocol: 'tcp' }]);
  });
});

describe('parsePortSpec: bad input names the problem', () => {
  const bad: [string, RegExp, ErrorConstructor][] = [
    ['0', /container port 0 is outside 1..65535/, RangeError],
    ['8080:0', /container port 0/, RangeError],
    ['0:80', /host port 0/, RangeError],
    ['65536:80', /host port 65536/, RangeError],
    ['80:123456', /container port "123456" is not a port number/, TypeError],
    ['abc', /container port "abc"/, TypeError],
    ['80/icmp', /protocol "icmp" must be one of tcp, udp, sctp/, TypeError],
    ['80/', /protocol ""/, TypeError],
    ['1.2.3.4:80', /host port "1.2.3.4" is not a port number/, TypeError],
    ['999.0.0.1:80:80', /"999.0.0.1" is not an IP address/, TypeError],
    ['localhost:80:80', /"localhost" is not an IP address/, TypeError],
    ['[]:80:80', /empty host address/, TypeError],
    ['8080:', /no container port/, TypeError],
    ['', /non-empty/, TypeError],
    ['80 :80', /whitespace/, TypeError],
    ['8000-8001:80-82', /host range 8000-8001 and container range 80-82 differ in length/, RangeError],
    ['90-80', /container port range 90-80 ends before it starts/, RangeError],
    ['80-', /container port "" is not a port number/, TypeError],
    ['-80', /container port ""/, TypeError],
    ['+80', /container port "\+80"/, TypeError],
  ];
  for (const [spec, msg, type] of bad) {
    it(JSON.stringify(spec), () => {
      expect(() => parsePortSpec(spec)).toThrow(type);
      expect(() => parsePortSpec(spec)).toThrow(msg);
    });
  }

  it('non-strings', () => {
    expect(() => parsePortSpec(80 as any)).toThrow(TypeError);
  });

  it('parsePortSpecs names the index of the bad spec', () => {
    expect(parsePortSpecs(['80', '53/udp'])).toHaveLength(2);
    expect(() => parsePortSpecs(['80', '99999'])).toThrow(/specs\[1\] "99999"/);
    expect(() => parsePortSpecs('80' as any)).toThrow(TypeError);
  });
});

describe('formatPortMapping', () => {
  it('round-trips through parsePortSpec', () => {
    for (const spec of ['80/tcp', '8080:80/tcp', '127.0.0.1:8080:80/udp', '127.0.0.1::80/tcp', '[::1]:8080:80/tcp', '[::1]::53/udp', '8000-8010:80/tcp']) {
      const [m] = parsePortSpec(spec);
      expect(formatPortMapping(m)).toBe(spec);
      expect(parsePortSpec(formatPortMapping(m))).toEqual([m]);
    }
  });
});
