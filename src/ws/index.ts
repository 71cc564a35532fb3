/**
 * `rxjs-backpressure/ws`: request(n) demand across a WebSocket. {@link serveStreams} on the server answers the streams
 * a client opens with {@link requestStream}, sending no more values than the client has requested, so a slow consumer
 * in a browser slows the producer on the server. JSON text frames; the format is in docs/ws-protocol.md.
 *
 * Works with the browser's `WebSocket` and the `ws` package (an optional peer dependency: this module imports
 * neither, it works on the socket it is given).
 *
 * @module
 */
export { requestStream } from './requestStream.js';
export { serveStreams } from './serveStreams.js';
export type { ServeStreamsOptions } from './serveStreams.js';
export type { WebSocketLike } from './socket.js';
