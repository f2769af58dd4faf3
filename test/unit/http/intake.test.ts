/** The in-process bounds of /v1 intake (src/http/intake.ts): token buckets and large-body slots. */
import { expect } from 'chai';
import { LargeBodySlots, RateLimiter } from '../../../src/http/intake.ts';

describe('/v1 intake bounds', () => {
  it('lets a key spend its burst, then asks it to wait until a token has refilled', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ burst: 3, perSecond: 0.5 }, () => now);
    expect([
      limiter.take('203.0.113.7'),
      limiter.take('203.0.113.7'),
      limiter.take('203.0.113.7'),
    ]).to.deep.equal([0, 0, 0]);
    expect(limiter.take('203.0.113.7')).to.equal(2); // one token every 2 s
    expect(limiter.take('198.51.100.1')).to.equal(0); // another address has its own bucket
    now += 2000;
    expect(limiter.take('203.0.113.7')).to.equal(0);
    expect(limiter.take('203.0.113.7')).to.equal(2);
  });

  it('never refills a bucket past its burst', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, perSecond: 100 }, () => now);
    now += 3_600_000;
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).to.deep.equal([0, 0, 1]);
  });

  it('hands out at most the configured large-body slots, each released once', () => {
    const seen: number[] = [];
    const slots = new LargeBodySlots(2, (n) => seen.push(n));
    const a = slots.tryAcquire()!;
    const b = slots.tryAcquire()!;
    expect(slots.tryAcquire()).to.equal(null);
    a();
    a(); // a second release of the same slot frees nothing more
    expect(slots.inUse).to.equal(1);
    expect(slots.tryAcquire()).to.not.equal(null);
    b();
    expect(seen).to.deep.equal([1, 2, 1, 2, 1]);
  });
});
