/**
 * `ocr-al gt export (--classes FILE | --default) --out FILE [--json]`
 *   writes the Ground Truth label-category config of a class set (atomically).
 * `ocr-al gt import MANIFEST --output GT_OUTPUT_MANIFEST [--label-attribute NAME]
 *   [--job-attribute NAME] [--classes FILE] [--dry-run] [--json]`
 *   imports a Ground Truth output manifest's labels into the batch's label attribute through
 *   the edits journal (one durable append for the whole import). See docs/groundtruth.md.
 */
import * as path from 'node:path';
import { type ClassSet, defaultClassSet, parseLabelCategoryConfig, serializeLabelCategoryConfig } from '../../core/classes';
import { OcrAlError } from '../../core/errors';
import type { FileSystem } from '../../core/fileSystem';
import { type ImportPlan, planImport } from '../../core/groundtruth/importLabels';
import { parseOutputManifest } from '../../core/groundtruth/outputManifest';
import { writeFileAtomic } from '../../core/manifest/atomicWrite';
import { fileByteSource } from '../../core/manifest/byteSource';
import { CLASS_SET_FILE } from '../../core/manifest/effectiveManifest';
import { openManifestIndex } from '../../core/manifest/indexCache';
import { parallelIndexBuilder } from '../../sources/parallelIndex';
import { appendEdits } from '../../core/manifest/journal';
import { DEFAULT_LABEL_ATTRIBUTE } from '../../core/manifest/status';
import { parseCommandArgs } from '../args';
import { type CliCommand, type CliIo, writeJson } from '../io';

const HELP = [
  'usage: ocr-al gt export (--classes FILE | --default) --out FILE [--json]',
  '       ocr-al gt import MANIFEST --output GT_OUTPUT_MANIFEST [--label-attribute NAME] [--job-attribute NAME] [--classes FILE] [--dry-run] [--json]',
].join('\n');

export const gtCommand: CliCommand = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(HELP + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'export') return exportCommand(rest, io);
  if (sub === 'import') return importCommand(rest, io);
  throw new OcrAlError('BadInput', `unknown gt command "${sub}" (export or import)`);
};

async function exportCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, { classes: { type: 'string' }, default: { type: 'boolean' }, out: { type: 'string' }, json: { type: 'boolean' } }, []);
  if ((values.classes === undefined) === (values.default !== true)) throw new OcrAlError('BadInput', 'give --classes FILE or --default (one of them)');
  if (values.out === undefined) throw new OcrAlError('BadInput', '--out FILE is required');
  const out = path.resolve(io.cwd, values.out);
  let text: string;
  let names: readonly string[];
  if (values.classes !== undefined) {
    const file = path.resolve(io.cwd, values.classes);
    const { config, classes } = parseLabelCategoryConfig(await readText(io.fs, file), file);
    text = serializeLabelCategoryConfig(classes, config);
    names = classes.names;
  } else {
    const classes = defaultClassSet();
    text = serializeLabelCategoryConfig(classes);
    names = classes.names;
  }
  await writeFileAtomic(io.fs, out, text);
  if (values.json) writeJson(io, { out, labels: names });
  else io.stdout.write(`wrote ${names.length} labels to ${out}\n`);
  return 0;
}

/** The `--json` document of `gt import`. */
export interface GtImportReport {
  readonly manifest: string;
  readonly output: string;
  readonly labelAttribute: string;
  readonly dryRun: boolean;
  readonly imported: number;
  /** Imported images that already had labels (now replaced). */
  readonly replaced: number;
  readonly items: ImportPlan['imported'];
  readonly failed: ImportPlan['failed'];
  readonly unmatched: ImportPlan['unmatched'];
  readonly unknownClasses: ImportPlan['unknownClasses'];
  readonly skipped: ImportPlan['skipped'];
  readonly problems: ImportPlan['problems'];
}

async function importCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      output: { type: 'string' },
      'label-attribute': { type: 'string' },
      'job-attribute': { type: 'string' },
      classes: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    ['MANIFEST'],
  );
  if (values.output === undefined) throw new OcrAlError('BadInput', '--output GT_OUTPUT_MANIFEST is required');
  const manifestPath = path.resolve(io.cwd, positionals[0]!);
  const outputPath = path.resolve(io.cwd, values.output);
  const labelAttribute = values['label-attribute'] ?? DEFAULT_LABEL_ATTRIBUTE;
  if (labelAttribute === '' || labelAttribute === 'source-ref' || labelAttribute.endsWith('-metadata')) {
    throw new OcrAlError('BadInput', `--label-attribute "${labelAttribute}" cannot hold labels`);
  }

  const output = parseOutputManifest(await readText(io.fs, outputPath), { attribute: values['job-attribute'] });
  const classes = await loadClasses(io, manifestPath, values.classes);
  const opened = openManifestIndex(io.fs, fileByteSource(io.fs, manifestPath), {
    labelAttribute,
    onCacheWarning: (message) => io.stderr.write(`ocr-al gt import: warning: ${message}\n`),
    builder: parallelIndexBuilder(manifestPath, { log: (message) => io.stderr.write(`ocr-al gt import: warning: ${message}\n`) }),
  });
  const index = await opened.done;
  await opened.cacheSettled;
  const plan = planImport(output, {
    count: index.entryCount,
    refs: index.parts.refs,
    isLabeled: (i) => index.statusOf(i) === 'labeled',
    labelAttribute,
    classes,
  });

  const dryRun = values['dry-run'] === true;
  if (!dryRun && plan.edits.length > 0) {
    const at = new Date().toISOString();
    await appendEdits(
      io.fs,
      manifestPath,
      plan.edits.map((e) => ({ op: 'set' as const, ref: e.ref, key: e.key, value: e.value, at })),
    );
  }

  const report: GtImportReport = {
    manifest: manifestPath,
    output: outputPath,
    labelAttribute,
    dryRun,
    imported: plan.imported.length,
    replaced: plan.imported.filter((i) => i.replaced).length,
    items: plan.imported,
    failed: plan.failed,
    unmatched: plan.unmatched,
    unknownClasses: plan.unknownClasses,
    skipped: plan.skipped,
    problems: plan.problems,
  };
  if (values.json) {
    writeJson(io, report);
    return 0;
  }
  const verb = dryRun ? 'would import' : 'imported';
  const lines = [`${verb} ${report.imported} labeled images into "${labelAttribute}" (${report.replaced} replaced existing labels)`];
  for (const f of plan.failed) lines.push(`  line ${f.line}: failed item, not imported: ${f.ref ?? '(no source-ref)'}: ${f.reason}`);
  for (const u of plan.unmatched) lines.push(`  line ${u.line}: ${u.ref ?? '(no source-ref)'}: ${u.message}`);
  for (const u of plan.unknownClasses) lines.push(`  line ${u.line}: ${u.ref}: unknown classes ${u.classes.join(', ')} (not in the class set); not imported`);
  for (const s of plan.skipped) lines.push(`  line ${s.line}: ${s.ref ?? '(no source-ref)'}: ${s.message}`);
  for (const p of plan.problems) lines.push(`  line ${p.line}: ${p.message}`);
  io.stdout.write(lines.join('\n') + '\n');
  return 0;
}

/** `--classes FILE`, else `classes.json` beside the manifest, else the 11 passport classes. */
async function loadClasses(io: CliIo, manifestPath: string, file: string | undefined): Promise<ClassSet> {
  if (file !== undefined) {
    const resolved = path.resolve(io.cwd, file);
    return parseLabelCategoryConfig(await readText(io.fs, resolved), resolved).classes;
  }
  const beside = path.join(path.dirname(manifestPath), CLASS_SET_FILE);
  let text: string;
  try {
    text = await io.fs.readFile(beside, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return defaultClassSet();
    throw new OcrAlError('Io', `cannot read ${beside}: ${(error as Error).message}`, { cause: error });
  }
  return parseLabelCategoryConfig(text, beside).classes;
}

async function readText(fs: FileSystem, file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') throw new OcrAlError('NotFound', `no such file: ${file}`, { cause: error });
    if (code === 'EISDIR') throw new OcrAlError('BadInput', `is a directory: ${file}`, { cause: error });
    throw new OcrAlError('Io', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
