/**
 * What a finished job leaves in the store besides its result: a calibration job registers
 * its calibration (other specs reuse it by id), a score job records its suspect with every
 * metric value (final and per checkpoint) and the attack's fidelity curve. The results
 * table and the report read these records.
 */
import { resolve } from 'node:path';
import { readCalibration } from '../engine/calibration/calibration-file';
import { AuditError } from '../engine/errors';
import type { AuditStore, JobRecord } from '../store/types';
import { jobResult, storedJob, workerResult } from './jobs';

/** Turns a finished job's result into store records (calibration, suspects). */
export function recordResult(store: AuditStore, runId: string, job: JobRecord, result: unknown): void {
  const typed = storedJob(job);
  if (typed.kind === 'calibrate') {
    const r = workerResult('calibrate', result);
    if (!store.listCalibrations().some((c) => resolve(c.filePath) === resolve(r.file))) {
      store.importCalibration({ filePath: r.file, document: readCalibration(r.file), victimHash: r.victimHash, runId });
    }
  } else if (typed.kind === 'score') {
    const r = workerResult('score', result);
    const attackKey = job.deps.find((d) => d.startsWith('attack:'));
    const attack = attackKey ? jobResult(store.getJob(runId, attackKey), 'attack') : undefined;
    if (!attack)
      throw new AuditError('DEPENDENCY_FAILED', `Score job ${job.key} has no finished attack`, {
        hint: 'Run the audit again.',
      });
    const p = typed.payload;
    const metrics = r.final.metrics.filter((m) => !m.id.startsWith('fidelity.'));
    store.recordSuspect(
      {
        runId,
        key: attackKey as string,
        rowId: p.rowId,
        attack: attack.attack,
        label: p.label ?? attack.attack,
        scenario: p.scenario,
        seed: p.seed,
        modelPath: attack.model,
        // Score jobs verify model folders: the suspect always has a content hash.
        modelHash: r.final.suspect.contentHash ?? '',
        accuracy: attack.fidelity.accuracy,
        agreement: attack.fidelity.agreement,
        victimAccuracy: attack.fidelity.victimAccuracy,
        derived: r.final.verdict?.derived ?? null,
        votes: r.final.verdict?.votes ?? null,
        of: r.final.verdict?.of ?? null,
        seconds: attack.compute.seconds,
        passes: attack.compute.passes,
        iterations: attack.compute.iterations,
      },
      [
        ...metrics.map((m) => ({
          iteration: null,
          metricId: m.id,
          value: m.value,
          tau: m.tau ?? null,
          flagged: m.flagged ?? null,
          normalized: m.normalized ?? null,
        })),
        ...r.checkpoints.flatMap((c) => [
          ...c.metrics.map((m) => ({
            iteration: c.iteration,
            metricId: m.id,
            value: m.value,
            tau: m.tau ?? null,
            flagged: m.flagged ?? null,
            normalized: m.normalized ?? null,
          })),
          {
            iteration: c.iteration,
            metricId: 'fidelity.accuracy',
            value: c.accuracy,
            tau: null,
            flagged: null,
            normalized: null,
          },
          {
            iteration: c.iteration,
            metricId: 'fidelity.agreement',
            value: c.agreement,
            tau: null,
            flagged: null,
            normalized: null,
          },
        ]),
      ],
      (attack.curve ?? []).map((c) => ({ iteration: c.iteration, fidelity: c.fidelity, agreement: c.agreement })),
      r.checkpoints.map((c) => ({ iteration: c.iteration, path: c.path })),
    );
  }
}
