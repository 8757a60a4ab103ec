/**
 * Image width and height from a PNG or JPEG header, for entries without `source-size`. Ground
 * Truth pixels are relative to the stored image, so this reads the stored dimensions (EXIF
 * orientation is not applied). A few dozen lines here instead of a dependency: we need two
 * formats and two numbers, and reading only the header keeps large scans cheap.
 */
import type { FileHandle, FileSystem } from './fileSystem';
import type { ImageSize } from './coordinates';
import { OcrAlError } from './errors';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Dimensions from the first bytes of an image; undefined when they do not suffice or are not PNG/JPEG. */
export function imageSizeFromHeader(b: Uint8Array): ImageSize | 'need-more' | undefined {
  if (b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) {
    if (b.length < 24) return 'need-more';
    // IHDR is always the first chunk: length(4) "IHDR"(4) width(4) height(4), big-endian.
    if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') return undefined;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const width = view.getUint32(16);
    const height = view.getUint32(20);
    return width > 0 && height > 0 ? { width, height } : undefined;
  }
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 4 <= b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1]!;
      if (marker === 0xff) {
        i++; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2; // markers without a length
        continue;
      }
      const length = (b[i + 2]! << 8) | b[i + 3]!;
      // SOF0..SOF15 hold the frame size, except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (i + 9 > b.length) return 'need-more';
        const height = (b[i + 5]! << 8) | b[i + 6]!;
        const width = (b[i + 7]! << 8) | b[i + 8]!;
        return width > 0 && height > 0 ? { width, height } : undefined;
      }
      if (marker === 0xda || length < 2) return undefined; // start of scan before any frame header
      i += 2 + length;
    }
    return 'need-more';
  }
  return b.length < 8 ? 'need-more' : undefined;
}

/**
 * Reads the dimensions of the PNG or JPEG at `filePath`, reading more of the file only while
 * the header needs it (JPEG frame headers can sit behind large EXIF blocks). Throws
 * 'NotFound' for a missing file and 'Malformed' when the size cannot be read.
 */
export async function readImageSize(fs: FileSystem, filePath: string): Promise<ImageSize> {
  let handle: FileHandle;
  try {
    handle = await fs.open(filePath, 'r');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new OcrAlError(code === 'ENOENT' ? 'NotFound' : 'Io', `cannot open image ${filePath}: ${(error as Error).message}`, { cause: error });
  }
  try {
    let size = 4096;
    let buffer = Buffer.alloc(0);
    for (;;) {
      const next = Buffer.alloc(size);
      const { bytesRead } = await handle.read(next, 0, size, 0);
      buffer = next.subarray(0, bytesRead);
      const result = imageSizeFromHeader(buffer);
      if (result !== 'need-more') {
        if (!result) throw new OcrAlError('Malformed', `${filePath}: not a PNG or JPEG image with a readable size`);
        return result;
      }
      if (bytesRead < size || size >= 16 << 20) throw new OcrAlError('Malformed', `${filePath}: image header ends before its size`);
      size *= 4;
    }
  } finally {
    await handle.close();
  }
}
