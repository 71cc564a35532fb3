import { Subscription, from } from 'rxjs';
import type { ObservableInput, Observer } from 'rxjs';
import { ENDED, EXTRA, LATE, PAID, UNLINKED, accept, createLink, grant, offer } from '../demand/link.js';
import type { Link } from '../demand/link.js';
import { ProtocolError } from '../errors.js';
import { describe } from '../internal/format.js';
import { fn, positiveInteger, settings, withDefault } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import { checkSocket, cutOff, frame, isStreamId, listen, parse, send, violation } from './socket.js';
import type { WebSocketLike } from './socket.js';

/** Options of {@link serveStreams}. */
export interface ServeStreamsOptions {
  /** Streams a client may have open at once on the socket; one more is a protocol violation. Default 64. */
  maxStreams?: number;
  /** Outstanding credit a client may give one stream; more is a protocol violation. Default 2 ** 20. */
  maxCredit?: number;
}

const NAME = 'serveStreams';

const OPTIONS = {
  maxStreams: withDefault(positiveInteger, 64),
  maxCredit: withDefault(positiveInteger, 2 ** 20),
} satisfies Schema<ServeStreamsOptions>;

/**
 * The server side of demand across a WebSocket: answers each stream a client opens (with {@link requestStream}) by
 * subscribing `route(request)`, and sends no more values on it than the client has requested.
 *
 * Each stream is a consumer linked like a drain: a route that returns a {@link pull} (or a queue operator without a
 * `demand`) is read only as fast as the client's credit comes, so a slow browser tab slows the producer on the server
 * instead of filling its memory. A route whose source ignores demand (a plain `interval`) may send what credit there
 * is; a value beyond it ends that stream with an error frame naming the fix (a queue operator or `pull` in the route),
 * never a buffer. Values go out one per frame as JSON (docs/ws-protocol.md): a value JSON cannot carry ends the stream
 * with an error.
 *
 * A route that throws or errors ends that stream with an error frame carrying its message; the socket stays usable.
 * A client that breaks the protocol (a malformed frame, a request(n) whose n is not a positive integer, more than
 * `maxCredit` outstanding on a stream, more than `maxStreams` open, a stream id already open) is sent an error frame
 * and the socket is closed (code 1002); every route it had open is unsubscribed. A socket that closes unsubscribes
 * every route. Unsubscribing the returned Subscription stops serving: each open stream gets an error frame and its
 * route is unsubscribed; the socket is left open. The reply to the first open on a socket starts with a `limits` frame
 * (`maxCredit`, `maxStreams`), so a {@link requestStream} with unbounded demand requests in installments of at most
 * `maxCredit`.
 *
 * ```
 * client:   open(feed, n=2) ----request(1)--------request(2)----
 * route:    pull(generator)       (read only against the client's credit)
 * server:   --a-b-----------------c--------------------d-e------
 * ```
 * (A stream after the socket's first; the first opens with n=1, is answered with the limits frame first, and the
 * client's request(1) follows.)
 *
 * ## Example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { pull } from 'rxjs-backpressure';
 * import { serveStreams } from 'rxjs-backpressure/ws';
 *
 * async function* ticks() { for (let i = 0; ; i++) yield { tick: i, at: Date.now() }; }
 * new WebSocketServer({ port: 8080 }).on('connection', (socket) => {
 *   serveStreams(socket, (request) => pull(ticks())); // never more than each client asked for
 * });
 * ```
 *
 * @param socket an open WebSocket (the `ws` package's, or anything with send, close, readyState and events)
 * @param route maps the request a client sent when opening a stream to the values to stream back
 * @param options `maxStreams` (= 64), `maxCredit` (= 2 ** 20)
 * @returns a Subscription: unsubscribe to stop serving this socket
 * @see {@link requestStream} the client side
 */
export function serveStreams(
  socket: WebSocketLike,
  route: (request: unknown) => ObservableInput<unknown>,
  options?: ServeStreamsOptions,
): Subscription {
  checkSocket(NAME, socket);
  fn()(NAME, 'route', route);
  const { maxStreams, maxCredit } = settings(NAME, OPTIONS, options ?? {});
  const server = new StreamServer(socket, route, maxStreams, maxCredit);
  return new Subscription(() => server.stop(`${NAME}: the server stopped serving this socket`));
}

/** The route's subscriber for one stream (a Subscription that is an Observer, so a synchronous source sees closed). */
class Served extends Subscription implements Observer<unknown> {
  readonly link: Link;
  private stopped = false;

  constructor(
    private readonly server: StreamServer,
    readonly id: number,
  ) {
    super();
    this.link = createLink(NAME, 0);
  }

  next(value: unknown): void {
    if (!this.stopped) this.server.value(this, value);
  }

  error(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.server.failed(this, error);
    this.unsubscribe();
  }

  complete(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.server.completed(this);
    this.unsubscribe();
  }

  override unsubscribe(): void {
    this.stopped = true;
    super.unsubscribe();
  }
}

class StreamServer {
  private readonly streams = new Map<number, Served>();
  private readonly unlisten: () => void;
  private over = false;
  private announced = false;

  constructor(
    private readonly socket: WebSocketLike,
    private readonly route: (request: unknown) => ObservableInput<unknown>,
    private readonly maxStreams: number,
    private readonly maxCredit: number,
  ) {
    this.unlisten = listen(socket, {
      message: (text) => this.frame(text),
      open: () => undefined,
      closed: () => this.stop(undefined),
    });
  }

  /** Stops serving: routes unsubscribed, listeners removed; `message` set: each open stream is told so. */
  stop(message: string | undefined): void {
    if (this.over) return;
    this.over = true;
    this.unlisten();
    const open = [...this.streams.values()];
    this.streams.clear();
    for (const served of open) {
      if (message !== undefined) send(this.socket, frame({ type: 'error', id: served.id, message }));
      served.unsubscribe();
    }
  }

  private violated(error: ProtocolError): void {
    if (this.over) return;
    this.stop(undefined);
    cutOff(this.socket, error);
  }

  private frame(text: string | undefined): void {
    if (this.over) return;
    const parsed = parse(NAME, text);
    if (parsed instanceof ProtocolError) {
      this.violated(parsed);
      return;
    }
    const { type, id } = parsed;
    if (type === 'error' && id === undefined) {
      // the client says this side broke the protocol; it closes the socket
      this.stop(undefined);
      return;
    }
    if (!isStreamId(id)) {
      this.violated(violation(NAME, 'malformed', `a ${describe(type)} frame whose id is ${describe(id)}`));
      return;
    }
    switch (type) {
      case 'open':
        this.open(id, parsed['n'], parsed['request']);
        return;
      case 'request':
        this.request(id, parsed['n']);
        return;
      case 'cancel': {
        const served = this.streams.get(id);
        if (served === undefined) return; // it ended on this side meanwhile
        this.streams.delete(id);
        served.unsubscribe();
        return;
      }
      default:
        this.violated(violation(NAME, 'malformed', `a frame of type ${describe(type)}, which a client does not send`));
    }
  }

  /** A credit check: a positive integer within maxCredit on top of `outstanding`, or the violation. */
  private credit(id: number, n: unknown, outstanding: number): ProtocolError | undefined {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
      return violation(NAME, 'credit', `request(n) on stream ${id} with n = ${describe(n)}, not a positive integer`);
    }
    if (outstanding + n > this.maxCredit) {
      return violation(
        NAME,
        'max-credit',
        `stream ${id} would have ${outstanding + n} credits outstanding, above maxCredit ${this.maxCredit}`,
      );
    }
    return undefined;
  }

  private open(id: number, n: unknown, request: unknown): void {
    if (!this.announced) {
      // The reply to the socket's first open, before any of its values, tells the client the limits, so one with
      // unbounded (or large) demand requests in installments of at most maxCredit (API.md)
      this.announced = true;
      send(this.socket, frame({ type: 'limits', maxCredit: this.maxCredit, maxStreams: this.maxStreams }));
    }
    if (this.streams.has(id)) {
      this.violated(violation(NAME, 'stream-id', `stream ${id} opened while it is open`));
      return;
    }
    if (this.streams.size >= this.maxStreams) {
      this.violated(violation(NAME, 'max-streams', `a stream opened beyond maxStreams ${this.maxStreams}`));
      return;
    }
    if (n !== undefined) {
      const error = this.credit(id, n, 0);
      if (error !== undefined) {
        this.violated(error);
        return;
      }
    }
    const served = new Served(this, id);
    served.link.credit = (n as number | undefined) ?? 0;
    this.streams.set(id, served);
    let source: ObservableInput<unknown>;
    try {
      source = this.route(request);
      offer(served.link, () => from(source).subscribe(served));
    } catch (error) {
      served.error(error);
    }
  }

  private request(id: number, n: unknown): void {
    const served = this.streams.get(id);
    const error = this.credit(id, n, served === undefined ? 0 : served.link.credit);
    if (error !== undefined) {
      this.violated(error);
      return;
    }
    if (served !== undefined) grant(served.link, n as number); // else: it ended on this side meanwhile
  }

  value(served: Served, value: unknown): void {
    if (this.over) return;
    const arrival = accept(served.link);
    if (arrival !== PAID && arrival !== UNLINKED) {
      const cause =
        arrival === EXTRA
          ? 'an operator in the route emits several values for one'
          : arrival === LATE
            ? 'an operator in the route delays values, merges in another source or adds values after pull() ended'
            : arrival === ENDED
              ? 'an operator in the route adds values at the end (endWith, concatWith, defaultIfEmpty, ...)'
              : 'the route does not obey demand';
      served.error(
        new Error(
          `${NAME}: stream ${served.id} produced a value beyond the client's credit (${cause}); return pull(...) ` +
            'or put a queue operator (bufferBounded, dropOnFull, ...) at the end of the route',
        ),
      );
      return;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      served.error(new TypeError(`${NAME}: a value JSON cannot carry: ${messageOf(error)}`));
      return;
    }
    send(
      this.socket,
      json === undefined ? `{"type":"next","id":${served.id}}` : `{"type":"next","id":${served.id},"value":${json}}`,
    );
  }

  completed(served: Served): void {
    if (this.streams.get(served.id) !== served) return;
    this.streams.delete(served.id);
    send(this.socket, frame({ type: 'complete', id: served.id }));
  }

  failed(served: Served, error: unknown): void {
    if (this.streams.get(served.id) !== served) return;
    this.streams.delete(served.id);
    const message = messageOf(error);
    const name = typeof (error as Error | null)?.name === 'string' ? (error as Error).name : undefined;
    send(
      this.socket,
      frame(
        name === undefined
          ? { type: 'error', id: served.id, message }
          : { type: 'error', id: served.id, message, name },
      ),
    );
  }
}

/** The message of an error, or a safe rendering of a thrown non-error. */
function messageOf(error: unknown): string {
  const message = (error as Error | null)?.message;
  return typeof message === 'string' ? message : describe(error);
}
