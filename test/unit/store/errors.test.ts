import { expect } from 'chai';
import { duplicateIndexes, isDuplicateKey } from '../../../src/store/errors.ts';

/** A bulk write error as the driver throws it from an unordered insertMany (its shape only). */
function bulkError(codes: readonly number[]) {
  return {
    name: 'MongoBulkWriteError',
    code: 11000,
    writeErrors: codes.map((code, index) => ({ index, code })),
  };
}

describe('store errors: the one duplicate-key check', () => {
  it('a single duplicate key (E11000) is a duplicate', () => {
    expect(isDuplicateKey({ code: 11000 })).to.equal(true);
    expect(isDuplicateKey({ code: 112 })).to.equal(false);
    expect(isDuplicateKey(null)).to.equal(false);
    expect(isDuplicateKey(new Error('connection reset'))).to.equal(false);
  });

  it('a bulk error is a duplicate only when every error it lists is one', () => {
    expect(isDuplicateKey({ code: 11000, writeErrors: [{ index: 0, code: 11000 }] })).to.equal(true);
    expect(
      isDuplicateKey({
        code: 11000,
        writeErrors: [
          { index: 0, code: 11000 },
          { index: 3, code: 121 },
        ],
      }),
    ).to.equal(false);
    // some driver versions give one object rather than a list
    expect(isDuplicateKey({ writeErrors: { index: 2, code: 11000 } })).to.equal(true);
  });

  // Regression (issue 21): the copy in directory-store.ts answered "no duplicates" for a bulk error
  // listing none, so a bulk insert that failed for another reason was dropped silently.
  it('a bulk error with an empty writeErrors is not a duplicate, and is rethrown', () => {
    const err = { code: 11000, writeErrors: [] as unknown[] };
    expect(isDuplicateKey(err)).to.equal(false);
    expect(() => duplicateIndexes(err, 10))
      .to.throw()
      .that.equals(err);
    const wc = { code: 64, message: 'waiting for replication timed out', writeErrors: [] as unknown[] };
    expect(() => duplicateIndexes(wc, 3))
      .to.throw()
      .that.equals(wc);
  });

  it('duplicateIndexes gives the failed entries of a batch and rethrows anything else', () => {
    expect(duplicateIndexes(bulkError([11000, 11000]), 5)).to.deep.equal([0, 1]);
    const mixed = bulkError([11000, 121]);
    expect(() => duplicateIndexes(mixed, 5))
      .to.throw()
      .that.equals(mixed);
    const other = new Error('network');
    expect(() => duplicateIndexes(other, 1))
      .to.throw()
      .that.equals(other);
    // a duplicate that names no entry: attributable only in a batch of one
    expect(duplicateIndexes({ code: 11000 }, 1)).to.deep.equal([0]);
    const unattributed = { code: 11000 };
    expect(() => duplicateIndexes(unattributed, 2))
      .to.throw()
      .that.equals(unattributed);
  });
});
