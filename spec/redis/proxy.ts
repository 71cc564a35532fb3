import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a redis-server, for the specs of connection loss: it forwards bytes both ways until told to
 * lose a reply (the next server-to-client chunk containing a marker is swallowed and that connection cut, so the
 * server has served the command and the client never sees the answer), to cut every connection, or to refuse new
 * ones.
 */
export interface RedisProxy {
  readonly port: number;
  /** The next reply containing `marker` is swallowed and its connection cut; resolves when that happened. */
  loseReplyWith(marker: string): Promise<void>;
  /** Cuts every open connection (the client sees a closed socket). */
  cutAll(): void;
  /** true: new connections are closed at once (the server "is down"). */
  refuse(refusing: boolean): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startProxy(target: number): Promise<RedisProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let accepted = 0;
  let lose: { marker: string; done: () => void } | undefined;
  const server: Server = createServer((client) => {
    accepted++;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const cut = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (lose !== undefined && chunk.includes(lose.marker)) {
        const { done } = lose;
        lose = undefined;
        cut();
        done();
        return;
      }
      client.write(chunk);
    });
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', cut);
    upstream.on('close', cut);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const cutAll = (): void => {
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    loseReplyWith: (marker) => new Promise<void>((resolve) => (lose = { marker, done: resolve })),
    cutAll,
    refuse(value) {
      refusing = value;
    },
    close() {
      cutAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
