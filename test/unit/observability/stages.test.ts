/** Time per stage of one request (src/observability/stages.ts), with a real prom-client histogram. */
import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { stage, timeStages } from '../../../src/observability/stages.ts';

/** Lets the other request run: both are in flight at once, interleaved at each await. */
const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

/** A request's own manual clock (ms): time passes only when the test says so. */
function manualClock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

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
    const request = (firstMs: number, secondMs: number) => {
      const clock = manualClock();
      const nested = async () => {
        await yieldTurn();
        clock.advance(secondMs);
        stage('second');
      };
      return timeStages(
        h,
        async () => {
          await yieldTurn();
          clock.advance(firstMs);
          stage('first');
          await nested();
          return 'done';
        },
        clock.now,
      );
    };
    // Two requests side by side keep their own clocks.
    expect(await Promise.all([request(100, 20), request(300, 50)])).to.deep.equal(['done', 'done']);
    const o = await observed(h);
    expect(o.first!.count).to.equal(2);
    expect(o.second!.count).to.equal(2);
    expect(o.first!.sum).to.be.closeTo(0.4, 1e-9);
    // The second stage starts at the first mark, not at the request's start (0.47 s if it did).
    expect(o.second!.sum).to.be.closeTo(0.07, 1e-9);
  });

  it('does nothing outside a timed request', async () => {
    const h = histogram();
    stage('lost');
    await timeStages(h, () => Promise.resolve());
    expect(await observed(h)).to.deep.equal({});
  });
});
