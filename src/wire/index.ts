// The wire format, for callers who build their own messages.
export * from './netlink.js';
export * from './schema.js';
export * from './address.js';
export * from './rtnetlink.js';
export * from './nfnetlink.js';
export * from './addr.js';
export * from './route.js';
export * from './neigh.js';
