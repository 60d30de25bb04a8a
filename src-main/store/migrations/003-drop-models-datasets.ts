/**
 * Migration 3: drops two tables of migration 1 that nothing used. `models` was written
 * after every victim and suspect but never read (runs, suspects and calibrations already
 * record each model file by path and content hash); `datasets` was never written outside
 * tests. No other table refers to either. Landed; never edit it (add a new migration
 * instead).
 */
import type { Migration } from './types';

export const migration003: Migration = {
  version: 3,
  name: 'drop the unused models and datasets tables',
  up(db) {
    db.exec(`
      DROP TABLE models;
      DROP TABLE datasets;
    `);
  },
};
