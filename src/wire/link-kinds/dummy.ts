// dummy: no IFLA_INFO_DATA; registered so a dummy link decodes with an empty info.
import { registerLinkKind } from './registry.js';

export type DummyInfo = Record<string, never>;

declare module './registry.js' {
  interface LinkInfoByKind {
    dummy: DummyInfo;
  }
}

registerLinkKind({ kind: 'dummy' });
