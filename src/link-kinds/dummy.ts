// dummy links: `ip link add <name> type dummy`.
import { checkKeys, commonCreate, createLinkRequest, kindRequest, type CreateLinkOptions, type Link } from '../link.js';
import { Namespace } from '../namespace.js';

/**
 * Creates a dummy link in one request. Kernels without the dummy module
 * answer EOPNOTSUPP, reported as the link kind missing.
 *
 * `ip link add <name> type dummy`
 */
export async function createDummy(opts: CreateLinkOptions): Promise<Link<'dummy'>> {
  checkKeys(opts, [], 'createDummy');
  const common = commonCreate(opts);
  const link = await createLinkRequest({ ns: Namespace.of(opts?.ns), ...kindRequest(common, opts.name, 'dummy', undefined, 'createDummy') });
  return link as Link<'dummy'>;
}
