import type Database from 'better-sqlite3';

/** One schema migration: `up` brings a database at `version - 1` to `version`. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}
