/**
 * The one coded error type of the project. Every failure a user can see carries a stable
 * `code` (for tests, `--json` output and telemetry-free diagnostics) and, where it wraps
 * another failure, the `cause`. Messages are one line and say what to do where possible.
 */
export type ErrorCode =
  | 'BadInput' // a command-line or settings value that cannot be used
  | 'NotFound' // a file, ref, box, class or S3 object that does not exist
  | 'Malformed' // a manifest line, config file or response that does not parse/validate
  | 'PathEscape' // a *-ref that resolves outside its batch or workspace
  | 'Conflict' // the file changed underneath us
  | 'AccessDenied' // credentials or permissions
  | 'Io' // the file system or network failed
  | 'Cancelled' // the user or a token cancelled; not shown as an error
  | 'Timeout'
  | 'Internal';

export class OcrAlError extends Error {
  override readonly name = 'OcrAlError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  static is(value: unknown, code?: ErrorCode): value is OcrAlError {
    return value instanceof OcrAlError && (code === undefined || value.code === code);
  }

  /** Wraps anything thrown into an OcrAlError, keeping an existing code. */
  static from(value: unknown, code: ErrorCode = 'Internal'): OcrAlError {
    if (value instanceof OcrAlError) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new OcrAlError(code, message, { cause: value });
  }
}

/** Exit codes of the CLI, by error code: 2 for anything the user can fix in the input. */
export function exitCodeFor(error: OcrAlError): number {
  switch (error.code) {
    case 'BadInput':
    case 'NotFound':
    case 'Malformed':
    case 'PathEscape':
      return 2;
    case 'Cancelled':
      return 130;
    default:
      return 1;
  }
}
