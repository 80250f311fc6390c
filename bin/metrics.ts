// Prometheus metrics for /metrics (prom-client). One registry per platform, passed around explicitly,
// so tests and parallel platforms in one process never share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Sets a gauge that is read when /metrics is scraped. */
  gauge(name: string, help: string, read: () => number | Promise<number>): void;
  counter(name: string, help: string): Counter;
}

export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'tributary_process_' });
  const httpDuration = new Histogram({
    name: 'tributary_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set(await read());
        },
      });
    },
    counter(name, help) {
      return new Counter({ name, help, registers: [registry] });
    },
  };
}

/** A label for a path that keeps the number of series bounded (ids and addresses collapse). */
export function routeLabel(path: string): string {
  if (path === '/graphql' || path === '/healthz' || path === '/metrics') return path;
  if (path.startsWith('/v1/')) return '/v1/*';
  if (/^\/datanets\/[^/]+\/contributions$/.test(path)) return '/datanets/:id/contributions';
  if (path.startsWith('/proofs/')) return '/proofs/:address';
  return 'other';
}
