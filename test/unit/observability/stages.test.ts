/** Time per stage of one request (src/observability/stages.ts), with a real prom-client histogram. */
import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { stage, timeStages } from '../../../src/observability/stages.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function histogram(): Histogram<'stage'> {
  return new Histogram({ name: 't_stages', help: 't', labelNames: ['stage'], registers: [new Registry()] });
}

async function observed(h: Histogram<'stage'>) {
  const out: Record<string, { count: number; sum: number }> = {};
  for (const v of (await h.get()).values) {
    const s = String(v.labels.stage);
    out[s] ??= { count: 0, sum: 0 };
    if (v.metricName?.endsWith('_count')) out[s].count = v.value;
    if (v.metricName?.endsWith('_sum')) out[s].sum = v.value;
  }
  return out;
}

describe('submission stages (time per stage of one request)', () => {
  it('records the time since the previous mark, through awaits and nested calls, per request', async () => {
    const h = histogram();
    const nested = async () => {
      await sleep(20);
      stage('second');
    };
    const request = () =>
      timeStages(h, async () => {
        await sleep(100);
        stage('first');
        await nested();
        return 'done';
      });
    // Two requests side by side keep their own clocks.
    expect(await Promise.all([request(), request()])).to.deep.equal(['done', 'done']);
    const o = await observed(h);
    expect(o.first!.count).to.equal(2);
    expect(o.second!.count).to.equal(2);
    expect(o.first!.sum / 2).to.be.within(0.095, 0.5);
    // The second stage starts at the first mark, not at the request's start (≥ 120 ms if it did).
    expect(o.second!.sum / 2).to.be.within(0.015, 0.09);
  });

  it('does nothing outside a timed request', async () => {
    const h = histogram();
    stage('lost');
    await timeStages(h, () => Promise.resolve());
    expect(await observed(h)).to.deep.equal({});
  });
});
