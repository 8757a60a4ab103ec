/** Types of scripts/e2e/codeServer.mjs (starts code-server with the built extension). */

/** Options of {@link startCodeServer}. */
export interface StartOptions {
  /** Absolute path of the workspace folder to open. */
  workspace: string;
  /** User settings written to `<user-data-dir>/User/settings.json` (over quiet defaults). */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and its extension host (e.g. AWS_ACCESS_KEY_ID). */
  env?: Record<string, string>;
  /** `copy` (default) freezes the current build; `symlink` follows rebuilds. */
  extensionMode?: 'copy' | 'symlink';
  /** Fixed port; default a free loopback port. */
  port?: number;
  /** Parent of the temp dir holding user-data, extensions and the log; default os.tmpdir(). */
  tmpRoot?: string;
  /** How long to wait for /healthz (default 60 s). */
  timeoutMs?: number;
  /** Echo code-server's output to stderr. */
  echo?: boolean;
  /** Installer progress lines. */
  log?: (line: string) => void;
}

/** A running code-server. */
export interface CodeServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The URL that opens the workspace folder in the workbench. */
  workspaceUrl: string;
  port: number;
  /** Temp dir holding user-data, extensions, config and the log. */
  root: string;
  userDataDir: string;
  extensionsDir: string;
  /** `<publisher>.<name>` of the placed extension. */
  extensionId: string;
  /** code-server's stdout/stderr. */
  logFile: string;
  pid: number;
  /** Last lines of code-server's output. */
  logTail(): string;
  /** Milliseconds from the call to /healthz answering (includes the install check). */
  startMs: number;
  /** Settles when the code-server process exits (for whatever reason). */
  exited: Promise<void>;
  /** Kills the process group and removes the temp dir (unless keep). Idempotent. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

/** Settings that keep a fresh VS Code quiet. */
export declare const QUIET_SETTINGS: Record<string, unknown>;
/** A free loopback TCP port. */
export declare function freePort(): Promise<number>;
/** Places the built extension into an extensions dir as `<publisher>.<name>-<version>`. */
export declare function placeExtension(extensionsDir: string, mode?: 'copy' | 'symlink'): { id: string; dir: string };
/** Starts code-server and resolves once it serves. */
export declare function startCodeServer(options: StartOptions): Promise<CodeServer>;
