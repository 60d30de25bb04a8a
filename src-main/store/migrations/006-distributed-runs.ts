/**
 * Migration 6: distributed runs (issue 21). A run driven through a Redis queue records where
 * (the queue's URL without its password, the shared location, the hashes of its published
 * inputs); each job records which worker ran it (host, backend, version) and the hashes of
 * what it wrote to the shared location, which the jobs that read those files check first.
 * Local runs leave all three null. Landed; never edit it (add a new migration instead).
 */
import type { Migration } from './types';

export const migration006: Migration = {
  version: 6,
  name: 'distributed runs',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN distributed_json TEXT;
      ALTER TABLE jobs ADD COLUMN ran_on_json TEXT;
      ALTER TABLE jobs ADD COLUMN outputs_json TEXT;
    `);
  },
};
