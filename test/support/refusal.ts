import { expect } from 'chai';
import { HubError } from '../../src/domain/errors.ts';

/** The HubError a promise is refused with; fails the test if it resolves. */
export async function refusal(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(HubError);
    return err as HubError;
  }
  throw new Error('expected a refusal');
}
