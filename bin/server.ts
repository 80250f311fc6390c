// The one HTTP server on PORT: /healthz, /metrics and, given the content store, /proofs/{address}; the API
// (/graphql), serving (/v1/*) and dashboards mount their routes here as they arrive.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChainConnection, Deployment } from '../contracts/index.ts';
import type { ContentStore } from '../schema/index.ts';
import { proofsRoute } from '../attribution/index.ts';
import { routeLabel, type Metrics } from './metrics.ts';

export interface HttpServer {
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** One dependency /healthz reports on: `check` resolves to a short status, or throws. */
export interface HealthCheck {
  name: string;
  check: () => Promise<string>;
}

/** A route handler; returns false when the request is not for it. */
export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> | boolean;

export interface ServerContext {
  conn: ChainConnection;
  deployment: Deployment;
  checks: HealthCheck[];
  routes?: Route[];
  metrics?: Metrics;
  /** The content store with the payout batches' files: mounts GET /proofs/{address} (contributors' claim proofs). */
  content?: ContentStore;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
}

async function healthz(ctx: ServerContext, res: ServerResponse) {
  const results: Record<string, { ok: boolean; status: string }> = {};
  await Promise.all(
    ctx.checks.map(async (c) => {
      try {
        results[c.name] = { ok: true, status: await c.check() };
      } catch (e) {
        results[c.name] = { ok: false, status: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
      }
    }),
  );
  const ok = Object.values(results).every((r) => r.ok);
  json(res, ok ? 200 : 503, {
    status: ok ? 'ok' : 'unavailable',
    checks: results,
    chainId: ctx.deployment.chainId,
    rpcUrl: ctx.conn.rpcUrl,
    deploymentBlock: ctx.deployment.deploymentBlock,
    contracts: ctx.deployment.contracts,
  });
}

export async function startHttpServer(ctx: ServerContext, port: number): Promise<HttpServer> {
  const proofs = ctx.content
    ? proofsRoute(
        { chain: { conn: ctx.conn, deployment: ctx.deployment }, content: ctx.content },
        { onError: (e) => process.stderr.write(`http: /proofs could not be answered: ${e instanceof Error ? e.message : String(e)}\n`) },
      )
    : undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.metrics?.httpDuration.observe({ method: req.method ?? 'GET', route: routeLabel(path), status: String(res.statusCode) }, seconds);
    });
    void (async () => {
      try {
        if (req.method === 'GET' && path === '/healthz') return await healthz(ctx, res);
        if (req.method === 'GET' && path === '/metrics' && ctx.metrics) {
          const body = await ctx.metrics.registry.metrics();
          res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
          return void res.end(body);
        }
        if (proofs && (await proofs(req, res, path))) return;
        for (const route of ctx.routes ?? []) if (await route(req, res, path)) return;
        json(res, 404, { error: `no route for ${req.method} ${path}` });
      } catch (e) {
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.end();
        process.stderr.write(`http: ${req.method} ${path} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      }
    })();
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
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
