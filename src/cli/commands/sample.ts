import { OcrAlError } from '../../core/errors';
import type { CliCommand } from '../io';

// Placeholder until its issue's work lands here; replaced, not extended.
export const sampleCommand: CliCommand = async () => {
  throw new OcrAlError('Internal', 'sample is not built yet');
};
