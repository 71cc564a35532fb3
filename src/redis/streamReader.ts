/** The read loop of fromRedisStream: credit-sized reads, replay after reconnects, claims, acknowledgements. */
import type { Subscriber } from 'rxjs';
import { Producer } from '../demand/producer.js';
import { describe } from '../internal/format.js';
import type { DemandInput } from '../types.js';
import { NAME } from './streamOptions.js';
import type { Client, Connection, DeadLetter, StreamEntry, StreamSettings } from './streamOptions.js';

/** What the reader does next: create the group, replay its own pending list from `cursor`, or read new entries. */
type Phase = { kind: 'create' } | { kind: 'replay'; cursor: string } | { kind: 'live' };

/**
 * A command of the read loop on the reading connection (one request, or a few in a row). `live`: its latest request
 * was written to a connection (sent while ready, or waiting in the client's offline queue when the connection became
 * ready), so it is lost if that connection closes; otherwise it waits in the offline queue and is sent on reconnect.
 */
interface Command {
  live: boolean;
  abandoned: boolean;
}

type RawEntry = [string, string[] | null];

export class StreamReader extends Producer<StreamEntry> {
  private readonly connection: Connection;
  private finished = false;
  private phase: Phase;
  private inFlight: Command | undefined;
  /** Emitted (or handed to onDeadLetter) and not yet acknowledged: skipped when the pending list is replayed. */
  private readonly held = new Set<string>();
  /** Acknowledged while a replay runs (a replay reply may still list them): skipped too until the replay ends. */
  private readonly ackedDuringReplay = new Set<string>();
  /** Dead letters whose handler runs: they hold a credit until acknowledged. */
  private deadLettering = 0;
  private nextClaim = 0;
  private claimCursor = '0-0';
  private readonly onClose = (): void => this.connectionLost();
  /** The client has just written its offline queue to the new connection: a command waiting there is live now. */
  private readonly onReady = (): void => {
    if (this.inFlight !== undefined) this.inFlight.live = true;
  };
  private readonly onEnd = (): void =>
    this.fail(new Error(`${NAME}: the connection to Redis ended (the client's retryStrategy gave up)`));
  private readonly onConnectionError = (): void => {
    // errors reach the commands (rejections) and the 'close' / 'end' events; a listener keeps ioredis from
    // reporting them as unhandled
  };

  constructor(
    private readonly client: Client,
    private readonly spec: StreamSettings,
    subscriber: Subscriber<StreamEntry>,
    demand: DemandInput | undefined,
  ) {
    super(NAME, subscriber, demand);
    this.phase = spec.createGroup ? { kind: 'create' } : { kind: 'replay', cursor: '0' };
    this.connection = client.duplicate({ autoResendUnfulfilledCommands: false, lazyConnect: false });
    this.connection.on('close', this.onClose);
    this.connection.on('ready', this.onReady);
    this.connection.on('end', this.onEnd);
    this.connection.on('error', this.onConnectionError);
  }

  start(demand: DemandInput | undefined): void {
    this.listen(NAME, demand, (error) => this.fail(error));
    this.pump();
  }

  protected credited(): void {
    this.pump();
  }

  cancel(): void {
    this.letGo();
    if (this.finished) return;
    this.finished = true;
    this.close();
  }

  private close(): void {
    this.connection.off('close', this.onClose);
    this.connection.off('ready', this.onReady);
    this.connection.off('end', this.onEnd);
    // the 'error' listener stays: a late socket error of the closing connection has nobody to tell
    this.connection.disconnect();
    this.held.clear();
    this.ackedDuringReplay.clear();
  }

  private fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.close();
    this.signalEnd(() => this.subscriber.error(error));
  }

  /** Credit for the next command: what the consumer granted, less dead letters in progress, at most `count`. */
  private available(): number {
    return Math.min(this.credit.credit - this.deadLettering, this.spec.count);
  }

  /** Runs the next command, if none is in flight and there is something to do. */
  private pump(): void {
    if (this.finished || this.inFlight !== undefined || this.subscriber.closed) return;
    const { phase, spec } = this;
    if (phase.kind === 'create') {
      this.send(
        ['XGROUP', 'CREATE', spec.stream, spec.group, spec.groupStart, 'MKSTREAM'],
        () => this.next({ kind: 'replay', cursor: '0' }),
        (error) => (String((error as Error | undefined)?.message).startsWith('BUSYGROUP') ? true : undefined),
      );
      return;
    }
    const n = this.available();
    if (n <= 0) return;
    if (phase.kind === 'replay') {
      // own pending entries after `cursor`: the ones held come back too, so ask for them on top of the credit
      const count = n + this.held.size + this.ackedDuringReplay.size;
      this.send(
        ['XREADGROUP', 'GROUP', spec.group, spec.consumer, 'COUNT', count, 'STREAMS', spec.stream, phase.cursor],
        (reply, command) => this.replayed(phase.cursor, entriesOf(reply), command),
      );
      return;
    }
    const now = spec.claimIdle === Infinity ? 0 : spec.scheduler.now();
    if (spec.claimIdle !== Infinity && now >= this.nextClaim) {
      this.send(
        ['XAUTOCLAIM', spec.stream, spec.group, spec.consumer, spec.claimIdle, this.claimCursor, 'COUNT', n],
        (reply, command) => this.claimed(reply, now, command),
      );
      return;
    }
    const block =
      spec.claimIdle === Infinity ? spec.block : Math.max(1, Math.min(spec.block, Math.ceil(this.nextClaim - now)));
    this.send(
      ['XREADGROUP', 'GROUP', spec.group, spec.consumer, 'COUNT', n, 'BLOCK', block, 'STREAMS', spec.stream, '>'],
      (reply) => this.deliver(entriesOf(reply).map((entry) => [entry, 1] as const)),
    );
  }

  /**
   * Sends one command on the reading connection. `onReply` runs unless the command was abandoned (its connection
   * closed while it was in flight); a rejection errors the stream, unless `tolerate` says it is fine. One command is
   * outstanding at a time: a command waiting in the offline queue is never joined by another.
   */
  private send(
    args: (string | number)[],
    onReply: (reply: unknown, command: Command) => void | Promise<void>,
    tolerate?: (error: unknown) => true | undefined,
  ): void {
    const command: Command = { live: false, abandoned: false };
    this.inFlight = command;
    this.call(command, args).then(
      async (reply) => {
        if (this.finished || command.abandoned) return;
        try {
          await onReply(reply, command);
        } catch (error) {
          this.fail(error);
          return;
        }
        if (command.abandoned) return;
        if (this.inFlight === command) this.inFlight = undefined;
        this.pump();
      },
      (error: unknown) => {
        if (this.finished) return;
        if (!command.abandoned && tolerate?.(error) === true) {
          if (this.inFlight === command) this.inFlight = undefined;
          this.next({ kind: 'replay', cursor: '0' });
          return;
        }
        // an abandoned command rejects only when the client gives up on it (maxRetriesPerRequest, retryStrategy)
        this.fail(error);
      },
    );
  }

  /** One request of `command` on the reading connection. */
  private call(command: Command, args: (string | number)[]): Promise<unknown> {
    command.live = this.connection.status === 'ready';
    const [name, ...rest] = args as [string, ...(string | number)[]];
    return this.connection.call(name, ...rest);
  }

  private next(phase: Phase): void {
    this.phase = phase;
    if (phase.kind === 'live') this.ackedDuringReplay.clear();
    this.inFlight = undefined;
    this.pump();
  }

  /**
   * The reading connection closed. A command written to it may have been served with its reply lost (a read or a
   * claim: entries now pending for this consumer that it never saw): it is abandoned, and once the connection is
   * back the reader replays its own pending list. Commands sent while disconnected wait in the client's offline
   * queue and are sent on reconnect, so they stay valid.
   */
  private connectionLost(): void {
    if (this.finished) return;
    const command = this.inFlight;
    if (command !== undefined && command.live) {
      command.abandoned = true;
      this.inFlight = undefined;
    }
    if (this.phase.kind !== 'create') this.phase = { kind: 'replay', cursor: '0' };
    this.pump();
  }

  /** A reply of the replay: emit the entries not held, up to the credit; the cursor moves past what was handled. */
  private async replayed(cursor: string, entries: RawEntry[], command: Command): Promise<void> {
    if (entries.length === 0) {
      this.phase = { kind: 'live' };
      this.ackedDuringReplay.clear();
      return;
    }
    const deliveries = await this.deliveriesOf(entries, command);
    // the connection closed meanwhile: the entries are pending for this consumer and the replay will find them
    if (this.finished || command.abandoned) return;
    let budget = this.available();
    const handled: (readonly [RawEntry, number])[] = [];
    let last = cursor;
    for (const entry of entries) {
      const [id] = entry;
      if (!this.held.has(id) && !this.ackedDuringReplay.has(id)) {
        if (budget <= 0) break;
        budget--;
        handled.push([entry, deliveries.get(id) ?? 1]);
      }
      last = id;
    }
    this.phase = { kind: 'replay', cursor: last };
    this.deliver(handled);
  }

  /** A reply of XAUTOCLAIM: `[cursor, entries, deleted?]` (Redis 7 lists entries deleted from the stream apart). */
  private async claimed(reply: unknown, now: number, command: Command): Promise<void> {
    const [cursor, raw] = (Array.isArray(reply) ? reply : []) as [unknown, unknown];
    if (typeof cursor !== 'string' || !Array.isArray(raw)) {
      throw new TypeError(`${NAME}: unexpected reply from XAUTOCLAIM: ${describe(reply)}`);
    }
    this.claimCursor = cursor;
    // the scan wrapped around: the next one after an interval; else go on at once (more may be waiting)
    if (cursor === '0-0') this.nextClaim = now + this.spec.claimIdle / 2;
    // an entry this reader still holds (its work runs longer than claimIdle) is not emitted twice
    const entries = (raw as RawEntry[]).filter(([id]) => !this.held.has(id));
    if (entries.length === 0) return;
    const deliveries = await this.deliveriesOf(entries, command);
    // the connection closed meanwhile: the entries are pending for this consumer and the replay will find them
    if (this.finished || command.abandoned) return;
    this.deliver(entries.map((entry) => [entry, deliveries.get(entry[0]) ?? 2] as const));
  }

  /** Delivery counts of entries pending for this consumer (XPENDING over their range). */
  private async deliveriesOf(entries: RawEntry[], command: Command): Promise<Map<string, number>> {
    const { stream, group, consumer } = this.spec;
    const first = entries[0]![0];
    const last = entries[entries.length - 1]![0];
    const count = entries.length + this.held.size;
    const reply = await this.call(command, ['XPENDING', stream, group, first, last, count, consumer]);
    const counts = new Map<string, number>();
    if (Array.isArray(reply)) {
      for (const row of reply as unknown[]) {
        if (Array.isArray(row) && typeof row[0] === 'string') counts.set(row[0], Number(row[3]));
      }
    }
    return counts;
  }

  /** Emits entries (each against one credit), sends the ones delivered too often to onDeadLetter. */
  private deliver(entries: readonly (readonly [RawEntry, number])[]): void {
    const { subscriber, spec } = this;
    for (const [[id, raw], deliveries] of entries) {
      if (this.finished || subscriber.closed) return;
      if (raw === null) {
        // deleted from the stream while pending: nothing left to deliver
        void this.ackId(id).catch((error: unknown) => this.fail(error));
        continue;
      }
      const fields = fieldsOf(raw);
      if (deliveries > spec.maxDeliveries) {
        this.deadLetter({ id, fields, deliveries });
        continue;
      }
      this.held.add(id);
      let acked: Promise<void> | undefined;
      const entry: StreamEntry = {
        id,
        fields,
        deliveries,
        ack: () => (acked ??= this.ackId(id)),
      };
      this.emit(entry);
    }
  }

  private deadLetter(entry: DeadLetter): void {
    this.deadLettering++;
    this.held.add(entry.id);
    const settle = (): void => {
      this.deadLettering--;
      this.pump();
    };
    let result: unknown;
    try {
      result = this.spec.onDeadLetter!(entry);
    } catch (error) {
      this.fail(error);
      return;
    }
    Promise.resolve(result)
      .then(() => this.ackId(entry.id))
      .then(settle, (error: unknown) => this.fail(error));
  }

  /** XACK on the caller's client; the entry is forgotten once Redis has answered. */
  private ackId(id: string): Promise<void> {
    const { stream, group } = this.spec;
    return this.client.call('XACK', stream, group, id).then(() => {
      if (this.held.delete(id) && this.phase.kind === 'replay') this.ackedDuringReplay.add(id);
    });
  }
}

/** The entries of an XREADGROUP reply (`[[stream, [[id, fields], ...]]]`, or null on timeout). */
function entriesOf(reply: unknown): RawEntry[] {
  if (reply === null) return [];
  const streams = reply as [string, RawEntry[]][];
  if (!Array.isArray(streams) || !Array.isArray(streams[0]?.[1])) {
    throw new TypeError(`${NAME}: unexpected reply from XREADGROUP: ${describe(reply)}`);
  }
  return streams[0][1];
}

function fieldsOf(raw: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) fields[raw[i]!] = raw[i + 1]!;
  return fields;
}
