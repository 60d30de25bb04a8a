/** The audit store: where runs, jobs and results are recorded (see types.ts for the contract). */
export type * from './types';
export type { FingerprintSetRecord } from './rows';
export { openStore, SqliteAuditStore, SQLITE_BINDING_ENV, type OpenStoreOptions } from './store';
export { MIGRATIONS, LATEST_VERSION, migrate, userVersion, type Migration } from './migrations';
export { newId, ID_PATTERN, type IdPrefix } from './ids';
export { defaultHome, resolveHome, databasePath, runsDir, APP_DIR_NAME, HOME_ENV, type LocationEnv } from './location';
