// ipvlan: `ip link add <name> link <parent> [netns <ns>] type ipvlan mode l2|l3|l3s [bridge|private|vepa]`.
import { checkKeys, commonCreate, createStackedKind, type CreateLinkOptions, type Link, type LinkRef } from '../link.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import { IPVLAN_FLAGS, IPVLAN_MODES, type IpvlanFlag, type IpvlanMode } from '../wire/link-kinds/ipvlan.js';

export interface IpvlanOptions extends CreateLinkOptions {
  parent: LinkRef;
  /** Default "l3". */
  mode?: IpvlanMode;
  /** Default "bridge". */
  flag?: IpvlanFlag;
  parentNs?: Namespace;
}

/**
 * Creates an ipvlan on `parent`, born directly in `ns`, in one request (a
 * parent given by name costs one lookup first). Kernels without ipvlan answer
 * EOPNOTSUPP, reported as the link kind missing.
 *
 * `ip link add <name> link <parent> netns <ns> type ipvlan mode <mode> [<flag>]`
 */
export async function createIpvlan(opts: IpvlanOptions): Promise<Link<'ipvlan'>> {
  checkKeys(opts, ['parent', 'mode', 'flag', 'parentNs'], 'createIpvlan');
  const common = commonCreate(opts);
  const mode = validate.oneOf(opts.mode ?? 'l3', IPVLAN_MODES, 'mode');
  const flag = validate.oneOf(opts.flag ?? 'bridge', Object.keys(IPVLAN_FLAGS) as IpvlanFlag[], 'flag');
  const link = await createStackedKind(opts, common, 'ipvlan', { mode: IPVLAN_MODES.indexOf(mode), flags: IPVLAN_FLAGS[flag] }, 'createIpvlan');
  return link as Link<'ipvlan'>;
}
