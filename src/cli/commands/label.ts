import * as path from 'node:path';
import { realpath } from 'node:fs/promises';
import { OcrAlError } from '../../core/errors';
import { appendEdits, journalPathFor, type LabelEdit } from '../../core/manifest/journal';
import { EditResolver, readEffectiveEntry } from '../../core/manifest/effectiveManifest';
import { DEFAULT_LABEL_ATTRIBUTE } from '../../core/manifest/status';
import { parseCommandArgs } from '../args';
import { crashHookFromEnv } from '../crashHook';
import { indexLocator } from '../entryLocator';
import { type CliCommand, writeJson } from '../io';

/**
 * `ocr-al label MANIFEST --ref SOURCE_REF --box BLOCK_ID --class NAME [--label-attribute NAME]`:
 * labels one Textract word. The edit is checked against the effective entry (ref, box, class
 * must exist; exit 2 naming what does not), appended to the journal and fdatasynced; exit 0
 * means it is durable.
 */
export const labelCommand: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ref: { type: 'string' },
      box: { type: 'string' },
      class: { type: 'string' },
      'label-attribute': { type: 'string' },
      json: { type: 'boolean' },
    },
    ['MANIFEST'],
  );
  const ref = values.ref;
  const box = values.box;
  const className = values.class;
  if (!ref) throw new OcrAlError('BadInput', '--ref is required');
  if (!box) throw new OcrAlError('BadInput', '--box is required');
  if (!className) throw new OcrAlError('BadInput', '--class is required');
  const attribute = values['label-attribute'] ?? DEFAULT_LABEL_ATTRIBUTE;
  // A label attribute is a plain manifest key; refs, metadata keys and `__proto__` are not.
  if (!/^[\w.:-]+$/.test(attribute) || attribute.endsWith('-ref') || attribute.endsWith('-metadata') || attribute === '__proto__') {
    throw new OcrAlError('BadInput', `--label-attribute ${JSON.stringify(attribute)} cannot hold labels`);
  }
  const manifestPath = path.resolve(io.cwd, positionals[0]!);

  const resolver = new EditResolver(io.fs, manifestPath, { realpath });
  const entry = await readEffectiveEntry(io.fs, manifestPath, ref, resolver, await indexLocator(io.fs, manifestPath));
  if (!entry) throw new OcrAlError('NotFound', `no entry with source-ref ${JSON.stringify(ref)} in ${positionals[0]}`);
  const edit: LabelEdit = { op: 'label', ref, box, class: className, attribute, at: new Date().toISOString() };
  // Applying it once here surfaces every error (unknown box or class, image size conflict)
  // before anything is written, so the journal only ever holds edits that apply.
  await resolver.apply(entry.value, edit);
  const [seq] = await appendEdits(io.fs, manifestPath, [edit], { crash: crashHookFromEnv() });

  if (values.json) {
    writeJson(io, { ref, box, class: className, attribute, at: edit.at, seq, journal: journalPathFor(manifestPath), durable: true });
  } else {
    io.stdout.write(`labeled box ${box} of ${ref} as ${className} (journal record ${seq}, durable)\n`);
  }
  return 0;
};
