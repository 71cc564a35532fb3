import { ProtocolError } from '../errors.js';
import type { ProtocolViolation } from '../errors.js';

/**
 * What the WebSocket bridges need of a socket: the browser's `WebSocket` and the `ws` package's both fit (duck-typed:
 * `send`, `close`, `readyState`, and `addEventListener` or `on` for `message`, `close` and `error`).
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed (the WHATWG constants). */
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener?(type: string, listener: (event: any) => void): void;
  removeEventListener?(type: string, listener: (event: any) => void): void;
  on?(event: string, listener: (...args: any[]) => void): unknown;
  off?(event: string, listener: (...args: any[]) => void): unknown;
  removeListener?(event: string, listener: (...args: any[]) => void): unknown;
}

export const CONNECTING = 0;
export const OPEN = 1;
/** The close code a peer that broke the protocol gets (RFC 6455: protocol error). */
export const PROTOCOL_ERROR = 1002;

/** The frames of docs/ws-protocol.md. */
export type Frame =
  | { type: 'open'; id: number; n?: number; request?: unknown }
  | { type: 'request'; id: number; n: number }
  | { type: 'cancel'; id: number }
  | { type: 'next'; id: number; value?: unknown }
  | { type: 'complete'; id: number }
  | { type: 'error'; id: number; message: string; name?: string }
  | { type: 'error'; reason: string; message: string }
  | { type: 'limits'; maxCredit: number; maxStreams: number };

export interface SocketEvents {
  /** A text frame; `undefined` for a binary one (which the protocol does not use). */
  message(text: string | undefined): void;
  open(): void;
  /** Closed, or failed (which ends in a close): the code if known. */
  closed(code: number): void;
}

function isWebSocketLike(socket: unknown): socket is WebSocketLike {
  const s = socket as WebSocketLike | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.send === 'function' &&
    typeof s.close === 'function' &&
    typeof s.readyState === 'number' &&
    (typeof s.addEventListener === 'function' || typeof s.on === 'function')
  );
}

export function checkSocket(operator: string, socket: unknown): WebSocketLike {
  if (!isWebSocketLike(socket)) {
    throw new TypeError(
      `${operator}: socket must be a WebSocket (send, close, readyState, and addEventListener or on), got ` +
        (socket === null ? 'null' : typeof socket),
    );
  }
  return socket;
}

/** Listens to a socket's events, through addEventListener (WHATWG) or on (EventEmitter); returns the remover. */
export function listen(socket: WebSocketLike, events: SocketEvents): () => void {
  let closed = false;
  const close = (code: number): void => {
    if (closed) return;
    closed = true;
    events.closed(code);
  };
  if (typeof socket.addEventListener === 'function') {
    const onMessage = (event: { data: unknown }): void =>
      events.message(typeof event.data === 'string' ? event.data : undefined);
    const onOpen = (): void => events.open();
    const onClose = (event: { code?: number }): void => close(typeof event.code === 'number' ? event.code : 1006);
    const onError = (): void => close(1006);
    const add = socket.addEventListener.bind(socket) as (type: string, fn: (event: never) => void) => void;
    add('message', onMessage);
    add('open', onOpen);
    add('close', onClose);
    add('error', onError);
    return () => {
      const remove = socket.removeEventListener?.bind(socket) as
        ((type: string, fn: (event: never) => void) => void) | undefined;
      remove?.('message', onMessage);
      remove?.('open', onOpen);
      remove?.('close', onClose);
      remove?.('error', onError);
    };
  }
  const onMessage = (data: unknown, isBinary?: boolean): void =>
    events.message(isBinary === true ? undefined : typeof data === 'string' ? data : String(data));
  const onOpen = (): void => events.open();
  const onClose = (code?: number): void => close(typeof code === 'number' ? code : 1006);
  const onError = (): void => close(1006);
  const on = socket.on!.bind(socket) as (event: string, fn: (...args: never[]) => void) => void;
  on('message', onMessage);
  on('open', onOpen);
  on('close', onClose);
  on('error', onError);
  return () => {
    const off = (socket.off ?? socket.removeListener)?.bind(socket) as
      ((event: string, fn: (...args: never[]) => void) => void) | undefined;
    off?.('message', onMessage);
    off?.('open', onOpen);
    off?.('close', onClose);
    off?.('error', onError);
  };
}

/** Sends a frame; false if the socket would not take it (closing, closed, or send threw). */
export function send(socket: WebSocketLike, text: string): boolean {
  if (socket.readyState !== OPEN) return false;
  try {
    socket.send(text);
    return true;
  } catch {
    return false;
  }
}

export function frame(value: Frame): string {
  return JSON.stringify(value);
}

/** Tells the peer how it broke the protocol (an error frame with no stream id), then closes the socket. */
export function cutOff(socket: WebSocketLike, error: ProtocolError): void {
  send(socket, frame({ type: 'error', reason: error.reason, message: error.message }));
  try {
    socket.close(PROTOCOL_ERROR, error.reason);
  } catch {
    // already closing
  }
}

export function violation(operator: string, reason: ProtocolViolation, detail: string): ProtocolError {
  return new ProtocolError(`${operator}: the peer broke the protocol (${reason}): ${detail}`, reason);
}

/** A stream id: a positive safe integer. */
export function isStreamId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
}

/** Parses a text frame into an object with a string `type`, or returns the violation. */
export function parse(
  operator: string,
  text: string | undefined,
): { type: string; [field: string]: unknown } | ProtocolError {
  if (text === undefined) return violation(operator, 'malformed', 'a binary frame');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return violation(operator, 'malformed', 'a frame that is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return violation(operator, 'malformed', 'a frame that is not a JSON object');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return violation(operator, 'malformed', 'a frame without a string "type"');
  return value as { type: string };
}
