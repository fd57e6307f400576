import { describe, expect, it } from 'vitest';
import {
  AddressPool,
  DEFAULT_ADDRESS_POOLS,
  IpamError,
  canonicalIp,
  findOverlap,
  nextFreeSubnet,
  parseSubnet,
  subnetsOverlap,
} from '../../src/network/ipam.js';

function errorOf(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('parseSubnet', () => {
  it('canonicalises IPv4 and IPv6', () => {
    expect(parseSubnet('172.18.0.0/16')).toMatchObject({ family: 4, prefix: 16, text: '172.18.0.0/16' });
    expect(parseSubnet('FD00:0001:0000::/64')).toMatchObject({ family: 6, prefix: 64, text: 'fd00:1::/64' });
    expect(parseSubnet('0.0.0.0/0').text).toBe('0.0.0.0/0');
  });

  it('refuses host bits, naming the network', () => {
    const e = errorOf(() => parseSubnet('172.18.0.1/16'));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toContain('172.18.0.0/16');
  });

  it('refuses garbage with TypeError/RangeError naming the argument', () => {
    expect(() => parseSubnet('172.18.0.0', 'subnet')).toThrow(/subnet.*CIDR/);
    expect(() => parseSubnet('nope/8')).toThrow(TypeError);
    expect(() => parseSubnet('10.0.0.0/33')).toThrow(RangeError);
    expect(() => parseSubnet('10.0.0.0/x')).toThrow(RangeError);
    expect(() => parseSubnet(42 as any, 'ipRange')).toThrow(/ipRange/);
  });
});

describe('AddressPool: IPv4 allocation order', () => {
  it('gateway .1 first, then .2, .3 …', () => {
    const p = new AddressPool({ subnet: '172.18.0.0/16' });
    expect(p.gateway).toBe('172.18.0.1');
    expect(p.allocate()).toBe('172.18.0.2');
    expect(p.allocate()).toBe('172.18.0.3');
    expect(p.has('172.18.0.1')).toBe(true);
    expect(p.usedCount).toBe(3n);
    expect(p.capacity).toBe(65534n);
  });

  it('never hands out the network or broadcast address and fills a /24 exactly', () => {
    const p = new AddressPool({ subnet: '10.1.2.0/24' });
    const got = new Set<string>();
    for (let i = 0; i < 253; i++) got.add(p.allocate());
    expect(got.size).toBe(253);
    expect(got.has('10.1.2.0')).toBe(false);
    expect(got.has('10.1.2.255')).toBe(false);
    expect(got.has('10.1.2.254')).toBe(true);
    const e = errorOf(() => p.allocate());
    expect(e).toBeInstanceOf(IpamError);
    expect(e.code).toBe('EADDRNOTAVAIL');
    expect(e.message).toContain('10.1.2.0/24');
    expect(p.available).toBe(0n);
  });

  it('exhausts a /16 in order (65533 after the gateway) and says so', () => {
    const p = new AddressPool({ subnet: '172.20.0.0/16' });
    let last = '';
    let n = 0;
    for (;;) {
      try {
        last = p.allocate();
        n++;
      } catch (e: any) {
        expect(e.code).toBe('EADDRNOTAVAIL');
        break;
      }
    }
    expect(n).toBe(65533);
    expect(last).toBe('172.20.255.254');
  });

  it('/31 uses both addresses (RFC 3021); /32 holds one', () => {
    const p31 = new AddressPool({ subnet: '10.0.0.4/31' });
    expect(p31.gateway).toBe('10.0.0.4');
    expect(p31.allocate()).toBe('10.0.0.5');
    expect(() => p31.allocate()).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));

    const p32 = new AddressPool({ subnet: '10.0.0.9/32', gateway: null });
    expect(p32.gateway).toBeUndefined();
    expect(p32.allocate()).toBe('10.0.0.9');
    expect(() => p32.allocate()).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    // With the default gateway a /32 has nothing left for containers.
    const gw32 = new AddressPool({ subnet: '10.0.0.9/32' });
    expect(gw32.gateway).toBe('10.0.0.9');
    expect(gw32.available).toBe(0n);
  });

  it('/30 has two usable addresses', () => {
    const p = new AddressPool({ subnet: '192.0.2.0/30' });
    expect(p.gateway).toBe('192.0.2.1');
    expect(p.allocate()).toBe('192.0.2.2');
    expect(() => p.allocate()).toThrow(IpamError);
  });
});

describe('AddressPool: gateway', () => {
  it('honours an explicit gateway and skips it in allocation', () => {
    const p = new AddressPool({ subnet: '10.5.0.0/24', gateway: '10.5.0.3' });
    expect(p.gateway).toBe('10.5.0.3');
    expect([p.allocate(), p.allocate(), p.allocate()]).toEqual(['10.5.0.1', '10.5.0.2', '10.5.0.4']);
  });

  it('refuses a gateway outside the subnet, or the network/broadcast address', () => {
    expect(() => new AddressPool({ subnet: '10.5.0.0/24', gateway: '10.6.0.1' })).toThrow(/gateway 10.6.0.1 is outside subnet 10.5.0.0\/24/);
    expect(() => new AddressPool({ subnet: '10.5.0.0/24', gateway: '10.5.0.0' })).toThrow(/network address/);
    expect(() => new AddressPool({ subnet: '10.5.0.0/24', gateway: '10.5.0.255' })).toThrow(/broadcast/);
    expect(() => new AddressPool({ subnet: '10.5.0.0/24', gateway: 'fd00::1' })).toThrow(TypeError);
    expect(() => new AddressPool({ subnet: '10.5.0.0/24', gateway: 'x' })).toThrow(/gateway/);
  });

  it('holds the gateway: release refuses it', () => {
    const p = new AddressPool({ subnet: '10.5.0.0/24' });
    expect(() => p.release('10.5.0.1')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('AddressPool: static addresses', () => {
  it('honours a free address anywhere in the subnet and canonicalises it', () => {
    const p = new AddressPool({ subnet: 'fd00:1::/64' });
    expect(p.allocate('FD00:1:0::00AB')).toBe('fd00:1::ab');
    expect(p.has('fd00:1::ab')).toBe(true);
  });

  it('refuses taken, outside, network and broadcast addresses with codes', () => {
    const p = new AddressPool({ subnet: '172.18.0.0/16' });
    p.allocate('172.18.5.5');
    expect(errorOf(() => p.allocate('172.18.5.5'))).toMatchObject({ code: 'EADDRINUSE', address: '172.18.5.5' });
    expect(errorOf(() => p.allocate('172.18.0.1')).message).toMatch(/gateway/);
    expect(errorOf(() => p.allocate('172.19.0.2'))).toMatchObject({ code: 'EADDRNOTAVAIL' });
    expect(errorOf(() => p.allocate('172.18.0.0')).message).toMatch(/network address/);
    expect(errorOf(() => p.allocate('172.18.255.255')).message).toMatch(/broadcast/);
    expect(() => p.allocate('fd00::2')).toThrow(TypeError);
    expect(() => p.allocate('172.18.0.300')).toThrow(TypeError);
  });

  it('dynamic allocation skips static addresses', () => {
    const p = new AddressPool({ subnet: '10.0.0.0/24' });
    p.allocate('10.0.0.2');
    p.allocate('10.0.0.3');
    expect(p.allocate()).toBe('10.0.0.4');
  });

  it('IPv6 keeps the subnet-router anycast address out of use; the last address is usable', () => {
    const p = new AddressPool({ subnet: 'fd00:2::/120' });
    expect(p.gateway).toBe('fd00:2::1');
    expect(errorOf(() => p.allocate('fd00:2::')).message).toMatch(/subnet-router/);
    expect(p.allocate('fd00:2::ff')).toBe('fd00:2::ff');
    expect(p.capacity).toBe(255n);
  });
});

describe('AddressPool: ipRange', () => {
  it('allocates only from the range; the default gateway is its first address', () => {
    const p = new AddressPool({ subnet: '172.28.0.0/16', ipRange: '172.28.5.0/24' });
    expect(p.ipRange).toBe('172.28.5.0/24');
    expect(p.gateway).toBe('172.28.5.0');
    expect(p.allocate()).toBe('172.28.5.1');
    expect(p.capacity).toBe(256n);
    // Static addresses may lie outside the range but inside the subnet.
    expect(p.allocate('172.28.9.9')).toBe('172.28.9.9');
    for (let i = 0; i < 254; i++) p.allocate();
    expect(errorOf(() => p.allocate()).message).toMatch(/ip range 172.28.5.0\/24 of 172.28.0.0\/16/);
  });

  it('with an explicit gateway outside the range', () => {
    const p = new AddressPool({ subnet: '172.28.0.0/16', ipRange: '172.28.5.0/24', gateway: '172.28.0.1' });
    expect(p.allocate()).toBe('172.28.5.0');
  });

  it('a range at the top of the subnet excludes the broadcast address', () => {
    const p = new AddressPool({ subnet: '10.0.0.0/24', ipRange: '10.0.0.252/30', gateway: '10.0.0.1' });
    expect(p.capacity).toBe(3n);
    expect([p.allocate(), p.allocate(), p.allocate()]).toEqual(['10.0.0.252', '10.0.0.253', '10.0.0.254']);
    expect(() => p.allocate()).toThrow(IpamError);
  });

  it('refuses a range outside the subnet, of the other family, or without usable addresses', () => {
    expect(() => new AddressPool({ subnet: '10.0.0.0/24', ipRange: '10.0.1.0/28' })).toThrow(/ipRange 10.0.1.0\/28 is not inside subnet/);
    expect(() => new AddressPool({ subnet: '10.0.0.0/24', ipRange: '10.0.0.0/16' })).toThrow(RangeError);
    expect(() => new AddressPool({ subnet: '10.0.0.0/24', ipRange: 'fd00::/64' })).toThrow(RangeError);
    expect(() => new AddressPool({ subnet: '10.0.0.0/24', ipRange: '10.0.0.0/32' })).toThrow(/no usable address/);
  });
});

describe('AddressPool: release and reuse', () => {
  it("serial (default): a released address comes back only after wrap-around", () => {
    const p = new AddressPool({ subnet: '10.9.0.0/29' }); // usable .1-.6, gateway .1
    expect([p.allocate(), p.allocate(), p.allocate()]).toEqual(['10.9.0.2', '10.9.0.3', '10.9.0.4']);
    expect(p.release('10.9.0.3')).toBe(true);
    expect(p.release('10.9.0.3')).toBe(false);
    expect(p.allocate()).toBe('10.9.0.5');
    expect(p.allocate()).toBe('10.9.0.6');
    // End of range: wrap around to the lowest free.
    expect(p.allocate()).toBe('10.9.0.3');
    p.release('10.9.0.2');
    p.release('10.9.0.5');
    // The cursor is after .3 now: .5 comes before .2.
    expect(p.allocate()).toBe('10.9.0.5');
    expect(p.allocate()).toBe('10.9.0.2');
  });

  it("'lowest' reuses the lowest free address at once, as dockerd's local networks", () => {
    const p = new AddressPool({ subnet: '10.9.0.0/24', strategy: 'lowest' });
    expect([p.allocate(), p.allocate(), p.allocate()]).toEqual(['10.9.0.2', '10.9.0.3', '10.9.0.4']);
    p.release('10.9.0.3');
    expect(p.allocate()).toBe('10.9.0.3');
  });

  it('release of an address outside the subnet is false; of the other family a TypeError', () => {
    const p = new AddressPool({ subnet: '10.9.0.0/24' });
    expect(p.release('10.10.0.1')).toBe(false);
    expect(() => p.release('fd00::1')).toThrow(TypeError);
  });

  it('counts stay right through fragmentation', () => {
    const p = new AddressPool({ subnet: '10.7.0.0/24', gateway: null, strategy: 'lowest' });
    for (let i = 0; i < 254; i++) p.allocate();
    for (let i = 1; i <= 254; i += 2) p.release(`10.7.0.${i}`);
    expect(p.usedCount).toBe(127n);
    expect(p.available).toBe(127n);
    const again = new Set<string>();
    for (let i = 0; i < 127; i++) again.add(p.allocate());
    expect([...again].every((a) => Number(a.split('.')[3]) % 2 === 1)).toBe(true);
    expect([...p.addresses()].length).toBe(254);
  });
});

describe('AddressPool: IPv6 /64 without iterating it', () => {
  it('allocates, wraps and exhausts a tiny range inside a /64', () => {
    const p = new AddressPool({ subnet: '2001:db8:1:2::/64' });
    expect(p.gateway).toBe('2001:db8:1:2::1');
    expect(p.allocate()).toBe('2001:db8:1:2::2');
    expect(p.capacity).toBe((1n << 64n) - 1n);
    // The last address is usable and next to nothing else.
    expect(p.allocate('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2:ffff:ffff:ffff:ffff');
    expect(p.available).toBe((1n << 64n) - 4n);
  });

  it('serial continues across a static block and across the top of the range', () => {
    const p = new AddressPool({ subnet: 'fd00:3::/64', ipRange: 'fd00:3::ffff:ffff:ffff:fff0/124', gateway: 'fd00:3::1' });
    expect(p.reserve('fd00:3::ffff:ffff:ffff:fff2')).toBe(true);
    const got: string[] = [];
    for (let i = 0; i < 15; i++) got.push(p.allocate());
    expect(got.slice(0, 3)).toEqual(['fd00:3::ffff:ffff:ffff:fff0', 'fd00:3::ffff:ffff:ffff:fff1', 'fd00:3::ffff:ffff:ffff:fff3']);
    expect(got[14]).toBe('fd00:3::ffff:ffff:ffff:ffff');
    expect(() => p.allocate()).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    p.release('fd00:3::ffff:ffff:ffff:fff7');
    expect(p.allocate()).toBe('fd00:3::ffff:ffff:ffff:fff7');
  });
});

describe('AddressPool: rebuild from the kernel', () => {
  it('reserve() marks found addresses, is idempotent, and keeps the cursor', () => {
    const p = new AddressPool({ subnet: '172.18.0.0/16' });
    expect(p.reserve('172.18.0.1')).toBe(false); // the gateway, seen on the bridge
    expect(p.reserve('172.18.0.2')).toBe(true);
    expect(p.reserve('172.18.0.4')).toBe(true);
    expect(p.reserve('172.18.0.4')).toBe(false);
    expect(p.allocate()).toBe('172.18.0.3');
    expect(p.allocate()).toBe('172.18.0.5');
    expect(() => p.reserve('172.18.255.255')).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    expect(() => p.reserve('10.0.0.1')).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
  });
});

describe('overlap', () => {
  it('detects containment and partial overlap in both directions, never across families', () => {
    expect(subnetsOverlap('172.18.0.0/16', '172.18.5.0/24')).toBe(true);
    expect(subnetsOverlap('172.18.5.0/24', '172.18.0.0/16')).toBe(true);
    expect(subnetsOverlap('172.18.0.0/16', '172.19.0.0/16')).toBe(false);
    expect(subnetsOverlap('10.0.0.0/8', '10.255.255.255/32')).toBe(true);
    expect(subnetsOverlap('0.0.0.0/0', '192.0.2.0/24')).toBe(true);
    expect(subnetsOverlap('fd00::/48', 'fd00:0:0:5::/64')).toBe(true);
    expect(subnetsOverlap('fd00::/64', 'fd00:0:0:1::/64')).toBe(false);
    expect(subnetsOverlap('::/0', '10.0.0.0/8')).toBe(false);
  });

  it('findOverlap names the clashing network', () => {
    const nets = ['172.17.0.0/16', '10.10.0.0/24', 'fd00::/64'];
    expect(findOverlap('10.10.0.128/25', nets)).toBe('10.10.0.0/24');
    expect(findOverlap('10.10.1.0/24', nets)).toBeUndefined();
  });
});

describe('nextFreeSubnet: dockerd default pools', () => {
  it('172.17 first, then 172.18 … 172.31, then 192.168.0.0/20 steps', () => {
    const taken: string[] = [];
    for (let i = 17; i <= 31; i++) {
      const s = nextFreeSubnet(taken);
      expect(s).toBe(`172.${i}.0.0/16`);
      taken.push(s);
    }
    for (let i = 0; i < 16; i++) {
      const s = nextFreeSubnet(taken);
      expect(s).toBe(`192.168.${i * 16}.0/20`);
      taken.push(s);
    }
    expect(errorOf(() => nextFreeSubnet(taken))).toMatchObject({ code: 'EADDRNOTAVAIL' });
  });

  it('skips partial overlaps with user subnets and host routes, and fills gaps', () => {
    expect(nextFreeSubnet(['172.17.0.0/16', '172.18.3.0/24'])).toBe('172.19.0.0/16');
    // A /12 covering all 172.16-31 pushes to 192.168; a /24 inside the first /20 skips it.
    expect(nextFreeSubnet(['172.16.0.0/12', '192.168.1.0/24'])).toBe('192.168.16.0/20');
    // A freed gap is reused.
    expect(nextFreeSubnet(['172.17.0.0/16', '172.19.0.0/16'])).toBe('172.18.0.0/16');
    // Other families are ignored.
    expect(nextFreeSubnet(['fd00::/8', '172.17.0.0/16'])).toBe('172.18.0.0/16');
  });

  it('IPv6: /64s out of fd00::/48, skipping a large existing block in one step', () => {
    expect(nextFreeSubnet([], { family: 6 })).toBe('fd00::/64');
    expect(nextFreeSubnet(['fd00::/64', 'fd00:0:0:1::/64'], { family: 6 })).toBe('fd00:0:0:2::/64');
    expect(nextFreeSubnet(['fd00::/49'], { family: 6 })).toBe('fd00:0:0:8000::/64');
    expect(() => nextFreeSubnet(['fd00::/48'], { family: 6 })).toThrow(IpamError);
  });

  it('custom pools, validated', () => {
    const pools = [{ base: '10.100.0.0/16', size: 24 }];
    expect(nextFreeSubnet(['10.100.0.0/23'], { pools })).toBe('10.100.2.0/24');
    expect(() => nextFreeSubnet([], { pools: [{ base: '10.0.0.0/16', size: 8 }] })).toThrow(/pools\[0\].size/);
    expect(() => nextFreeSubnet([], { pools: [{ base: '10.0.0.1/16', size: 24 }] })).toThrow(/pools\[0\].base/);
    expect(() => nextFreeSubnet([], { family: 5 as any })).toThrow(TypeError);
    expect(DEFAULT_ADDRESS_POOLS.length).toBe(7);
  });
});

describe('canonicalIp', () => {
  it('normalises text and refuses zone indexes', () => {
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(() => canonicalIp('fe80::1%eth0')).toThrow(/zone index/);
  });
});
