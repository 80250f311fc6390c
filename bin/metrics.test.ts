import { describe, expect, it } from 'vitest';
import { createMetrics, routeLabel } from './metrics.ts';

describe('createMetrics()', () => {
  it('reads gauges at scrape time and records request latencies per route', async () => {
    const m = createMetrics({ defaults: false });
    let head = 7;
    m.gauge('tributary_test_head', 'a head', () => head);
    m.httpDuration.observe({ method: 'GET', route: '/healthz', status: '200' }, 0.003);
    expect(await m.registry.metrics()).toContain('tributary_test_head 7');
    head = 9;
    const text = await m.registry.metrics();
    expect(text).toContain('tributary_test_head 9');
    expect(text).toContain('tributary_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status="200"} 1');
  });

  it('keeps two registries apart', async () => {
    const a = createMetrics({ defaults: false });
    const b = createMetrics({ defaults: false });
    a.counter('tributary_x_total', 'x').inc(3);
    b.counter('tributary_x_total', 'x').inc(1);
    expect(await a.registry.metrics()).toContain('tributary_x_total 3');
    expect(await b.registry.metrics()).toContain('tributary_x_total 1');
  });
});

describe('routeLabel()', () => {
  it('collapses ids and addresses so the number of series stays bounded', () => {
    expect(routeLabel('/datanets/12/contributions')).toBe('/datanets/:id/contributions');
    expect(routeLabel('/proofs/0xabc')).toBe('/proofs/:address');
    expect(routeLabel('/v1/chat/completions')).toBe('/v1/*');
    expect(routeLabel('/graphql')).toBe('/graphql');
    expect(routeLabel('/wp-admin')).toBe('other');
  });
});
