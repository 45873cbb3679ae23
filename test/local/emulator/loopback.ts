import type { Server } from 'node:http';
import { createServer } from 'node:net';

/** Starts an HTTP server on a free loopback port and returns its endpoint. */
export async function listenOnLoopback(server: Server): Promise<string> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the server has no loopback address');
  return `http://127.0.0.1:${address.port}`;
}

/** A loopback port nothing listens on right now, for a process that binds it itself. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
