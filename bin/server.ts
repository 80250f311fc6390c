// The one HTTP server on PORT. For now it serves /healthz; the api, serving and dashboards issues
// mount their routes here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChainConnection, Deployment } from '../contracts/index.ts';

export interface HttpServer {
  port: number;
  server: Server;
  close(): Promise<void>;
}

export interface ServerContext {
  conn: ChainConnection;
  deployment: Deployment;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
}

async function healthz(ctx: ServerContext, res: ServerResponse) {
  try {
    const blockNumber = await ctx.conn.publicClient.getBlockNumber();
    json(res, 200, {
      status: 'ok',
      chainId: ctx.deployment.chainId,
      blockNumber,
      rpcUrl: ctx.conn.rpcUrl,
      deploymentBlock: ctx.deployment.deploymentBlock,
      contracts: ctx.deployment.contracts,
    });
  } catch (e) {
    json(res, 503, { status: 'unavailable', reason: `chain RPC unreachable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
  }
}

export async function startHttpServer(ctx: ServerContext, port: number): Promise<HttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/healthz') return void healthz(ctx, res);
    json(res, 404, { error: `no route for ${req.method} ${path}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`PORT ${port} is already in use: set PORT to a free port`) : e),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
