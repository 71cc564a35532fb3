import { Observable } from 'rxjs';
import type { Subscriber } from 'rxjs';
import { Producer } from '../demand/producer.js';
import { ProtocolError } from '../errors.js';
import { describe } from '../internal/format.js';
import { demandInput } from '../internal/options.js';
import type { DemandInput } from '../types.js';
import { CONNECTING, OPEN, checkSocket, cutOff, frame, isStreamId, listen, parse, send, violation } from './socket.js';
import type { WebSocketLike } from './socket.js';

const NAME = 'requestStream';

/**
 * The most credit a stream keeps outstanding on the wire: a consumer with more (or unbounded) demand requests in
 * installments, topping up once half is spent. Smaller if the server's `limits` frame says its `maxCredit` is; until
 * the client has heard from the server on this socket, 1 (the only credit no `maxCredit` refuses): serveStreams
 * answers a socket's first open with its limits, before any value.
 */
const INSTALLMENT = 2 ** 16;

/**
 * The client side of demand across a WebSocket: opens one stream per subscription on the socket (several streams
 * share one socket), sends `request` to the server's {@link serveStreams} route, and emits what the server streams
 * back, requesting no more than its consumer has credit for.
 *
 * A demand-aware producer linked like {@link pull}: without `demand`, the drain below it in the pipe chain gives the
 * credit, so a browser drain paced by `animationFrames()` slows the producer on the server. With a `demand`, that
 * gives it; with neither, demand is unbounded and it requests in installments of 2 ** 16, or of the server's
 * `maxCredit` if that is smaller. The first stream on a socket opens with 1 credit: serveStreams answers it with its
 * limits, before any value, and the stream tops up to its consumer's credit then. Credit granted within one task goes
 * out as one request(n) frame.
 *
 * The stream completes when the server's route completes, and errors with the route's error message (an `Error` with
 * its message and name) when it errors. Unsubscribing sends `cancel`, and the server unsubscribes its route. A socket
 * that closes errors every open stream on it. A server that breaks the protocol (a value beyond the credit given, a
 * malformed frame, a frame for a stream never opened) is sent an error frame and the socket is closed; every stream
 * open on it errors with a {@link ProtocolError} (its `reason` says how); a server that says this side broke it does
 * the same (reason `'peer'`). Nothing is ever buffered: a value arrives only against a credit.
 *
 * Subscribing while the socket is connecting waits for it to open; subscribing to a closed socket errors at once.
 *
 * ```
 * drain:    credit 2 ------+1-------+1----+1------     (a project ends: one more credit)
 * wire:     open(n=2) -----request(1)-----request(2)   (coalesced per task)
 * output:   ---a-b---------c--------d-----e------
 * ```
 * (A stream after the socket's first; the first sends open(n=1), then request(1) once the server's limits came.)
 *
 * ## Example
 * ```ts
 * import { animationFrames, take } from 'rxjs';
 * import { drain } from 'rxjs-backpressure';
 * import { requestStream } from 'rxjs-backpressure/ws';
 *
 * const socket = new WebSocket('ws://localhost:8080');
 * requestStream<{ tick: number }>(socket, { feed: 'ticks' })
 *   .pipe(drain((tick) => animationFrames().pipe(take(1)))) // one value per frame; a hidden tab slows the server
 *   .subscribe();
 * ```
 *
 * @param socket a WebSocket (the browser's, or the `ws` package's)
 * @param request what the server's route is given (any JSON value)
 * @param demand the consumer's credits (a Demand or any ObservableInput of credits); default: the drain it is linked to
 * @see {@link serveStreams} the server side
 */
export function requestStream<T>(socket: WebSocketLike, request?: unknown, demand?: DemandInput): Observable<T> {
  checkSocket(NAME, socket);
  if (demand !== undefined) demandInput(NAME, 'demand', demand);
  return new Observable<T>((subscriber) => {
    const session = sessionOf(socket);
    const stream = new Requested<T>(session, subscriber as Subscriber<unknown>, request, demand);
    session.add(stream);
    stream.start(demand);
    return () => stream.cancel();
  });
}

const sessions = new WeakMap<WebSocketLike, Session>();

function sessionOf(socket: WebSocketLike): Session {
  let session = sessions.get(socket);
  if (session === undefined) {
    session = new Session(socket);
    sessions.set(socket, session);
  }
  return session;
}

/** The streams of one socket: stream ids, one set of listeners while any stream is open, and the socket's end. */
class Session {
  private nextId = 1;
  private readonly streams = new Map<number, Requested<unknown>>();
  private unlisten: (() => void) | undefined;
  /** Set once the socket is unusable: every stream opened later errors with it at once. */
  private ended: Error | undefined;
  /** The server's `maxCredit`, from its `limits` frame. */
  private maxCredit: number | undefined;
  /** A frame has come from the server (its `limits` frame comes first, so none is coming after any other). */
  private heard = false;

  constructor(readonly socket: WebSocketLike) {}

  add(stream: Requested<unknown>): void {
    if (this.ended === undefined && this.socket.readyState !== CONNECTING && this.socket.readyState !== OPEN) {
      this.ended = new Error(`${NAME}: the socket is closed`);
    }
    if (this.ended !== undefined) {
      stream.fail(this.ended);
      return;
    }
    stream.id = this.nextId++;
    this.streams.set(stream.id, stream);
    this.unlisten ??= listen(this.socket, {
      message: (text) => this.frame(text),
      open: () => {
        for (const s of [...this.streams.values()]) s.opened();
      },
      closed: (code) => this.end(new Error(`${NAME}: the socket closed (code ${code})`)),
    });
  }

  remove(stream: Requested<unknown>): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (this.streams.size === 0 && this.unlisten !== undefined) {
      this.unlisten();
      this.unlisten = undefined;
    }
  }

  /** The most credit a stream may keep outstanding (see INSTALLMENT). */
  get installment(): number {
    if (this.maxCredit !== undefined) return Math.min(INSTALLMENT, this.maxCredit);
    return this.heard ? INSTALLMENT : 1;
  }

  get open(): boolean {
    return this.ended === undefined && this.socket.readyState === OPEN;
  }

  send(text: string): void {
    send(this.socket, text);
  }

  /** The socket is gone (or cut off): every open stream errors with `error`. */
  private end(error: Error): void {
    if (this.ended !== undefined) return;
    this.ended = error;
    this.unlisten?.();
    this.unlisten = undefined;
    const open = [...this.streams.values()];
    this.streams.clear();
    for (const stream of open) stream.fail(error);
  }

  private violated(error: ProtocolError): void {
    cutOff(this.socket, error);
    this.end(error);
  }

  private topUpAll(): void {
    for (const stream of this.streams.values()) stream.credited();
  }

  private frame(text: string | undefined): void {
    if (this.ended !== undefined) return;
    const parsed = parse(NAME, text);
    if (parsed instanceof ProtocolError) {
      this.violated(parsed);
      return;
    }
    const { type, id } = parsed;
    const first = !this.heard;
    this.heard = true;
    if (type === 'limits' && id === undefined) {
      const { maxCredit } = parsed;
      if (typeof maxCredit !== 'number' || !Number.isSafeInteger(maxCredit) || maxCredit <= 0) {
        this.violated(
          violation(
            NAME,
            'malformed',
            `a limits frame whose maxCredit is ${describe(maxCredit)}, not a positive integer`,
          ),
        );
        return;
      }
      this.maxCredit = maxCredit;
      this.topUpAll();
      return;
    }
    if (first) this.topUpAll(); // no limits frame is coming: the streams that opened with 1 credit may ask for more
    if (type === 'error' && id === undefined) {
      const reason = typeof parsed['reason'] === 'string' ? parsed['reason'] : 'unknown';
      const message = typeof parsed['message'] === 'string' ? parsed['message'] : '';
      const error = new ProtocolError(
        `${NAME}: the server says this side broke the protocol (${reason}): ${message}`,
        'peer',
      );
      try {
        this.socket.close(1002, 'peer');
      } catch {
        // already closing
      }
      this.end(error);
      return;
    }
    if (!isStreamId(id)) {
      this.violated(violation(NAME, 'malformed', `a ${describe(type)} frame whose id is ${describe(id)}`));
      return;
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      // a stream this side cancelled (frames sent before the server saw the cancel); an id never used is a violation
      if (id >= this.nextId) this.violated(violation(NAME, 'stream-id', `a frame for stream ${id}, never opened`));
      return;
    }
    switch (type) {
      case 'next': {
        const error = stream.next(parsed['value']);
        if (error !== undefined) this.violated(error);
        return;
      }
      case 'complete':
        this.remove(stream);
        stream.complete();
        return;
      case 'error': {
        this.remove(stream);
        const error = new Error(typeof parsed['message'] === 'string' ? parsed['message'] : 'the route failed');
        if (typeof parsed['name'] === 'string') error.name = parsed['name'];
        stream.fail(error);
        return;
      }
      default:
        this.violated(violation(NAME, 'malformed', `a frame of type ${describe(type)}, which a server does not send`));
    }
  }
}

/** One subscription of requestStream: one stream on the socket. */
class Requested<T> extends Producer<T> {
  id = 0;
  /** Credit requested on the wire and not yet answered with a value. */
  private outstanding = 0;
  private sent = false;
  private finished = false;
  private scheduled = false;

  constructor(
    private readonly session: Session,
    subscriber: Subscriber<T>,
    private readonly request: unknown,
    demand: DemandInput | undefined,
  ) {
    super(NAME, subscriber, demand);
  }

  /** Credit changed (or the installment did): the deficit goes out at the end of the task. */
  credited(): void {
    this.schedule();
  }

  start(demand: DemandInput | undefined): void {
    if (this.finished) return;
    this.listen(NAME, demand, (error) => {
      this.session.remove(this);
      if (this.sent) this.session.send(frame({ type: 'cancel', id: this.id }));
      this.fail(error);
    });
    if (this.session.open) this.opened();
  }

  /** The socket is open: the open frame goes out with the credit there is. */
  opened(): void {
    if (this.sent || this.finished) return;
    let json: string | undefined;
    try {
      json = JSON.stringify(this.request);
    } catch (error) {
      this.session.remove(this);
      this.fail(new TypeError(`${NAME}: a request JSON cannot carry: ${String((error as Error)?.message)}`));
      return;
    }
    this.sent = true;
    const n = this.deficit();
    this.outstanding = n;
    this.session.send(
      `{"type":"open","id":${this.id}${n > 0 ? `,"n":${n}` : ''}${json === undefined ? '' : `,"request":${json}`}}`,
    );
  }

  /** What to request now: the consumer's credit not yet on the wire, in installments (see INSTALLMENT). */
  private deficit(): number {
    const installment = this.session.installment;
    const target = Math.min(this.credit.credit, installment);
    // an installment is topped up once half of it is spent, so a request(n) frame is sent per installment / 2 values
    if (this.credit.credit > installment && this.outstanding > installment / 2) return 0;
    return Math.max(0, target - this.outstanding);
  }

  /** Credit changed: one request(n) frame at the end of the task, whatever was granted meanwhile. */
  private schedule(): void {
    if (this.scheduled || this.finished || !this.sent) return;
    this.scheduled = true;
    void Promise.resolve().then(() => {
      this.scheduled = false;
      this.topUp();
    });
  }

  private topUp(): void {
    if (this.finished || !this.session.open) return;
    const n = this.deficit();
    if (n <= 0) return;
    this.outstanding += n;
    this.session.send(`{"type":"request","id":${this.id},"n":${n}}`);
  }

  /** A value from the server: emitted against a credit; one beyond the credit given is the violation returned. */
  next(value: unknown): ProtocolError | undefined {
    if (this.finished) return undefined;
    if (this.outstanding <= 0) {
      return violation(NAME, 'unrequested', `a value on stream ${this.id} beyond the credit given`);
    }
    this.outstanding--;
    this.emit(value as T);
    // a value swallowed on the way (filter) gave its credit back; an unbounded consumer tops up its installment
    if (this.deficit() > 0) this.schedule();
    return undefined;
  }

  complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.signalEnd(() => this.subscriber.complete());
  }

  fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.signalEnd(() => this.subscriber.error(error));
  }

  /** The subscriber left: cancel on the wire (if the stream was opened and has not ended). */
  cancel(): void {
    this.letGo();
    if (this.finished) return;
    this.finished = true;
    this.session.remove(this);
    if (this.sent) this.session.send(frame({ type: 'cancel', id: this.id }));
  }
}
