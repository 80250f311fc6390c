// A JSON-RPC proxy in front of anvil that a test can take down and bring back, to play an RPC that
// drops out: down, it refuses connections and cuts the open ones (Subsquid keeps sockets alive).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface RpcProxy {
  url: string;
  /** Starts listening (again). */
  up(): Promise<void>;
  /** Stops listening and destroys open connections. */
  down(): Promise<void>;
  /** Requests forwarded so far. */
  readonly requests: number;
}

export async function createRpcProxy(target: string, port: number): Promise<RpcProxy> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let listening = false;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    async up() {
      if (listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      listening = true;
    },
    async down() {
      if (!listening) return;
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
