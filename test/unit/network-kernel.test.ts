// The connect requests the network layer writes from templates must be the
// bytes the generic encoders write (checked against them, shape by shape).
import { describe, expect, it } from 'vitest';
import { Namespace } from '../../src/namespace.js';
import { prepareInside } from '../../src/network/kernel.js';

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
    for (const cidr of ['172.18.0.300/16', '172.18.0.2/33', 'nonsense']) {
      expect(() => prepareInside({ ns, cidr, loopback: false, up: true }, 'test')).toThrow();
    }
  });
  it('takes IPv6 the generic way', () => {
    const r = { ns, cidr: 'fd00::2/64', gateway: 'fd00::1', loopback: false, up: true };
    expect(prepareInside(r, 'test').bytes.toString('hex')).toBe(prepareInside({ ...r, index: INDEX_PLACEHOLDER }, 'test').bytes.toString('hex'));
  });
});
