import { type Command } from 'commander';
import { allCores, initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { loadDataset } from '../../engine/datasets';
import { loadModel } from '../../engine/models/io';
import { evaluate } from '../../engine/training/evaluate';
import { emit, fail } from '../output';
import { DEMO_DATASET, DEMO_VICTIM } from '../paths';

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description("test accuracy of a saved model on a data set's test split")
    .option('--model <dir>', 'model directory (or model.json)')
    .option('--data <dir>', 'data-set directory')
    .option('--demo', 'the embedded demo victim and demo data')
    .option('--json', 'print { accuracy, count, ... } as JSON')
    .action(async (flags: { model?: string; data?: string; demo?: boolean; json?: boolean }) => {
      const mode = { json: Boolean(flags.json) };
      try {
        const modelDir = flags.model ?? (flags.demo ? DEMO_VICTIM() : undefined);
        const dataDir = flags.data ?? (flags.demo ? DEMO_DATASET() : undefined);
        if (!modelDir || !dataDir) {
          throw new AuditError('INVALID_ARGUMENT', 'evaluate needs --model and --data', {
            hint: 'Pass --model DIR --data DIR, or --demo.',
          });
        }
        const backend = await initBackend(program.opts<{ backend?: string }>().backend, allCores());
        const { model, meta } = await loadModel(modelDir);
        // The model's own preprocessing: its input shape and the statistics it was trained with.
        // The data must fit the model: channels, size (image folders are resized) and classes.
        const data = await loadDataset(dataDir, {
          fit: { inputShape: meta.inputShape, numClasses: meta.numClasses },
          normalization: meta.normalization,
        });
        if (data.test.numClasses > meta.numClasses) {
          throw new AuditError(
            'DATASET_MISMATCH',
            `The data set has ${data.test.numClasses} classes, the model ${meta.numClasses}`,
            {
              path: dataDir,
              hint: 'Evaluate the model on data with the classes it was trained for.',
            },
          );
        }
        const result = evaluate(model, data.test);
        model.dispose();
        emit(
          mode,
          {
            accuracy: result.accuracy,
            count: result.count,
            model: modelDir,
            data: dataDir,
            backend: backend.backend,
            lineage: meta.lineage,
          },
          () => `accuracy ${(100 * result.accuracy).toFixed(2)}% on ${result.count} test images (${meta.lineage})`,
        );
      } catch (e) {
        fail(mode, e);
      }
    });
}
