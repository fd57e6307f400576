// Integration tests change namespaces, links and firewalls: they must only
// ever run inside the sandbox (npm test), never against the host.
const integration = !/\/test\/unit\//.test(expect.getState().testPath ?? '');
if (integration && process.env.NETWEAVE_SANDBOX !== '1') {
  throw new Error('integration tests run only inside the sandbox: use `npm test` (test/sandbox.mjs)');
}
