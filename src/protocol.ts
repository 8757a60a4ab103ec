/**
 * Typed messages between the extension host and the relabel webview, imported by both sides.
 * Requests carry an `id`; every request gets exactly one reply, with a result or an error
 * `{code, message}`, so neither side waits forever.
 */
import type { ErrorCode } from './core/errors';

/** A failed reply. */
export interface ReplyError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Reply envelope for a request `id`. */
export type Reply<T> =
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly result: T }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: ReplyError };

/** Webview -> host: the webview script has loaded and can take `init`. */
export interface ReadyMessage {
  readonly type: 'ready';
}

export type WebviewToHost = ReadyMessage;
export type HostToWebview = Reply<unknown>;
