// macvlan: `ip link add <name> link <parent> [netns <ns>] type macvlan mode <mode>`.
import { checkKeys, commonCreate, createStackedKind, type CreateLinkOptions, type Link, type LinkRef } from '../link.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import { MACVLAN_MODES, type MacvlanMode } from '../wire/link-kinds/macvlan.js';

export interface MacvlanOptions extends CreateLinkOptions {
  /** The lower device (IFLA_LINK), in parentNs. */
  parent: LinkRef;
  /** Default "bridge" (macvlans on one parent talk to each other directly). */
  mode?: MacvlanMode;
  /** Where the parent lives; default the current namespace (or the parent Link's). `ns` is where the macvlan ends up. */
  parentNs?: Namespace;
}

/**
 * Creates a macvlan on `parent`, born directly in `ns` (e.g. a container's
 * namespace as `eth0`) in one request. A parent given by name costs one
 * lookup first (IFLA_LINK takes an index).
 *
 * `ip link add <name> link <parent> netns <ns> type macvlan mode <mode>`
 */
export async function createMacvlan(opts: MacvlanOptions): Promise<Link<'macvlan'>> {
  checkKeys(opts, ['parent', 'mode', 'parentNs'], 'createMacvlan');
  const common = commonCreate(opts);
  const mode = validate.oneOf(opts.mode ?? 'bridge', Object.keys(MACVLAN_MODES) as MacvlanMode[], 'mode');
  const link = await createStackedKind(opts, common, 'macvlan', { mode: MACVLAN_MODES[mode] }, 'createMacvlan');
  return link as Link<'macvlan'>;
}
