import { OcrAlError } from '../../core/errors';
import type { CliCommand } from '../io';

// Placeholder until its issue's work lands here; replaced, not extended.
export const gtCommand: CliCommand = async () => {
  throw new OcrAlError('Internal', 'gt is not built yet');
};
