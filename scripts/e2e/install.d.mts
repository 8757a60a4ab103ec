/** Types of scripts/e2e/install.mjs (the code-server installer), for the TypeScript harness. */

/** The pinned code-server release (the newest that accepts Node 20; bundles VS Code 1.100). */
export declare const CODE_SERVER_VERSION: string;
/** Where code-server is installed (gitignored .vscode-test/code-server). */
export declare const installDir: string;
/** code-server's Node entry point. */
export declare const codeServerEntry: string;
/** Debian's Chromium, driven by playwright-core. */
export declare const chromiumPath: string;
/** True when a finished install of the pinned version is present. */
export declare function isInstalled(): boolean;
/** Required Debian packages (libkrb5-dev, ripgrep, chromium) that are not installed. */
export declare function missingDebianPackages(): string[];
/** Installs code-server unless present (cached, process-safe) and returns its entry point; throws with a clear message otherwise. */
export declare function ensureCodeServer(options?: { log?: (line: string) => void }): string;
