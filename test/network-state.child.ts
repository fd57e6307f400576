// A separate process for test/network-state.test.ts: what it makes must be
// found by another process through the kernel alone.
//   setup <host ns>            creates network "persist" (with DNS) and "crash", connects
//                              web + db to persist, publishes web's port 80 as 8080, exits
//   loop <host ns> <prefix>    connects new named namespaces to "crash" in a loop,
//                              publishing a port for every third, printing "done <name> <ip>"
//                              after each — until it is killed
import { Namespace } from '../src/namespace.js';
import { closeNetworks, createNetwork, getNetwork, loadNetworks } from '../src/network/index.js';

const [mode, hostName, prefix] = process.argv.slice(2);
const host = Namespace.open(hostName);

if (mode === 'setup') {
  const persist = await createNetwork({ ns: host, name: 'persist', subnet: '10.40.0.0/24' });
  await createNetwork({ ns: host, name: 'crash', subnet: '10.41.0.0/16' });
  const out: Record<string, unknown> = { persist: persist.id };
  for (const name of ['web', 'db']) {
    const ns = await Namespace.create(`${prefix}${name}`);
    const ep = await persist.connect(ns, { name, aliases: [`${name}-alias`] });
    out[name] = ep.ip;
    if (name === 'web') out.port = (await persist.publish(ep, '8080:80'))[0].hostPort;
  }
  console.log(JSON.stringify(out));
  await closeNetworks({ ns: host });
  process.exit(0);
} else if (mode === 'loop') {
  await loadNetworks({ ns: host });
  const net = await getNetwork('crash', { ns: host });
  console.log('ready');
  for (let i = 0; ; i++) {
    const ns = await Namespace.create(`${prefix}${i}`);
    const ep = await net.connect(ns, { name: `${prefix}${i}` });
    if (i % 3 === 0) await net.publish(ep, '80');
    console.log(`done ${ep.name} ${ep.ip}`);
  }
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
