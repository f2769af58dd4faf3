import { expect } from 'chai';
import { CircuitBreakers } from '../../../src/delivery/circuit-breaker.ts';

describe('per-endpoint circuit breaker', () => {
  let now = 0;
  const b = () => new CircuitBreakers({ threshold: 3, cooldownMs: 1000 }, () => now);

  beforeEach(() => {
    now = 0;
  });

  it('opens after the threshold of consecutive failures and stays open during the cooldown', () => {
    const cb = b();
    for (let i = 0; i < 3; i++) {
      expect(cb.allow('e')).to.equal(true);
      cb.failure('e');
    }
    expect(cb.allow('e')).to.equal(false);
    expect(cb.isOpen('e')).to.equal(true);
    expect(cb.allow('other')).to.equal(true);
  });

  it('lets exactly one trial through after the cooldown, and closes on its success', () => {
    const cb = b();
    for (let i = 0; i < 3; i++) cb.failure('e');
    now = 1001;
    expect(cb.allow('e')).to.equal(true);
    expect(cb.allow('e')).to.equal(false);
    cb.success('e');
    expect(cb.allow('e')).to.equal(true);
    expect(cb.isOpen('e')).to.equal(false);
  });

  it('reopens when the trial fails', () => {
    const cb = b();
    for (let i = 0; i < 3; i++) cb.failure('e');
    now = 1001;
    expect(cb.allow('e')).to.equal(true);
    cb.failure('e');
    expect(cb.allow('e')).to.equal(false);
    now = 2002;
    expect(cb.allow('e')).to.equal(true);
  });

  it('a success resets the failure count', () => {
    const cb = b();
    cb.failure('e');
    cb.failure('e');
    cb.success('e');
    cb.failure('e');
    cb.failure('e');
    expect(cb.allow('e')).to.equal(true);
  });
});
