/** The in-process bounds of /v1 intake (src/http/intake.ts): token buckets and large-body slots. */
import { expect } from 'chai';
import {
  LargeBodySlots,
  ledgerOnRefusalOnly,
  RateLimiter,
  SeenSignatures,
} from '../../../src/http/intake.ts';

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

describe('/v1 intake: signatures admitted without a ledger entry', () => {
  it('is a submission and an acknowledgement alone: every other request, one with a query, keeps its entry', () => {
    expect(ledgerOnRefusalOnly('POST', '/v1/documents')).to.equal(true);
    expect(ledgerOnRefusalOnly('POST', '/v1/inbox/d1/ack')).to.equal(true);
    expect(ledgerOnRefusalOnly('POST', '/v1/inbox/d1%3AH41.001/ack')).to.equal(true);
    for (const [m, p] of [
      ['POST', '/v1/documents?x=1'],
      ['GET', '/v1/documents'],
      ['POST', '/v1/inbox/d1/ack?x=1'],
      ['POST', '/v1/inbox/d1/x/ack'],
      ['POST', '/v1/inbox//ack'],
      ['GET', '/v1/inbox/d1/ack'],
      ['GET', '/v1/inbox'],
      ['POST', '/v1/admin/systems/s/rotate'],
      ['PUT', '/v1/documents'],
    ] as const)
      expect(ledgerOnRefusalOnly(m, p), `${m} ${p}`).to.equal(false);
  });

  it('answers a signature once until its window closes, then forgets it', () => {
    const seen = new SeenSignatures();
    expect(seen.firstUse('a', 2_000, 1_000)).to.equal(true);
    expect(seen.firstUse('a', 2_000, 1_500)).to.equal(false);
    expect(seen.firstUse('b', 3_000, 1_500)).to.equal(true);
    expect(seen.firstUse('a', 4_000, 2_000)).to.equal(true); // its window closed: a new request
    expect(seen.size).to.equal(2);
  });

  it('keeps at most max signatures, the oldest going first', () => {
    const seen = new SeenSignatures(3);
    for (const k of ['a', 'b', 'c', 'd']) expect(seen.firstUse(k, 10_000, 0)).to.equal(true);
    expect(seen.size).to.equal(3);
    expect(seen.firstUse('d', 10_000, 0)).to.equal(false);
    expect(seen.firstUse('a', 10_000, 0)).to.equal(true); // forgotten: the ledger-free path admits it again
  });
});
