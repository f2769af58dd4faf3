/** The readiness matrix (src/ops/readiness.ts, docs/deployment.md): probes summed up per role. */
import { expect } from 'chai';
import {
  assessReadiness,
  brokerEffect,
  type ProbeResult,
  type ReadinessProbe,
} from '../../../src/ops/readiness.ts';

const probe = (name: string, r: ProbeResult | (() => never)): ReadinessProbe => ({
  name,
  probe: () => (typeof r === 'function' ? r() : r),
});
const mongo = (up: boolean) =>
  probe('mongodb', { up, effect: up ? 'ok' : 'down', reason: up ? undefined : 'MongoDB does not answer' });

describe('readiness matrix', () => {
  it('is ready when every probe is ok', async () => {
    const r = await assessReadiness(
      [mongo(true), probe('rabbitmq', brokerEffect(['api'], { state: 'up' }))],
      false,
    );
    expect(r).to.deep.include({
      ok: true,
      status: 'ready',
      checks: { mongodb: true, rabbitmq: true },
      reasons: [],
    });
  });

  it('api with the broker down or refusing publishes: degraded (200); worker only: not ready (503)', async () => {
    for (const health of [
      { state: 'down' as const },
      { state: 'publish-refused' as const, reason: 'nacked' },
    ]) {
      const api = await assessReadiness(
        [mongo(true), probe('rabbitmq', brokerEffect(['api', 'worker'], health))],
        false,
      );
      expect(api.ok).to.equal(true);
      expect(api.status).to.equal('degraded');
      expect(api.checks.rabbitmq).to.equal(health.state !== 'down');
      expect(api.reasons[0]).to.match(
        /^degraded: broker (down|refusing publishes \(nacked\)), outbox relaying later$/,
      );
      const worker = await assessReadiness(
        [mongo(true), probe('rabbitmq', brokerEffect(['worker'], health))],
        false,
      );
      expect(worker).to.deep.include({ ok: false, status: 'not-ready' });
      expect(worker.reasons[0]).to.match(/the worker cannot deliver$/);
    }
  });

  it('MongoDB down or a probe that throws: not ready, whatever the others say', async () => {
    const r = await assessReadiness(
      [
        mongo(false),
        probe('rabbitmq', brokerEffect(['api'], { state: 'down' })),
        probe('x', () => {
          throw new Error('boom');
        }),
      ],
      false,
    );
    expect(r).to.deep.include({ ok: false, status: 'not-ready' });
    expect(r.checks).to.deep.equal({ mongodb: false, rabbitmq: false, x: false });
    expect(r.reasons).to.include('x: boom');
  });

  it('a probe without a dependency (revocation) adds its detail and can only degrade', async () => {
    const stale = { status: 'stale', stale: [{ source: 'crl:CN=x', reason: 'expired' }] };
    const r = await assessReadiness(
      [
        mongo(true),
        probe('revocation', {
          effect: 'degraded',
          reason: 'revocation data stale',
          detail: { revocation: stale },
        }),
      ],
      false,
    );
    expect(r).to.deep.include({ ok: true, status: 'degraded', checks: { mongodb: true } });
    expect(r.detail).to.deep.equal({ revocation: stale });
  });

  it('stale revocation data alone has its own status, revocation-stale (200); with a broker outage, degraded', async () => {
    const revocation = probe('revocation', {
      effect: 'degraded',
      degradedAs: 'revocation-stale',
      reason: 'revocation data stale',
    });
    expect(await assessReadiness([mongo(true), revocation], false)).to.deep.include({
      ok: true,
      status: 'revocation-stale',
    });
    const broker = probe('rabbitmq', { up: false, effect: 'degraded', reason: 'broker down' });
    expect(await assessReadiness([mongo(true), revocation, broker], false)).to.deep.include({
      ok: true,
      status: 'degraded',
    });
  });

  it('draining: 503 whatever the probes say, with the reason first', async () => {
    const r = await assessReadiness([mongo(true)], true);
    expect(r).to.deep.include({ ok: false, status: 'draining' });
    expect(r.reasons[0]).to.match(/^draining/);
  });
});
