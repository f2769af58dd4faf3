import { expect } from 'chai';
import {
  applyBusinessStatus,
  INITIAL_BUSINESS_STATE,
  type BusinessCode,
  type BusinessState,
} from '../../../src/domain/status.ts';
import { HubError } from '../../../src/domain/errors.ts';

function run(codes: BusinessCode[], from: BusinessState = INITIAL_BUSINESS_STATE): BusinessState {
  return codes.reduce((s, c) => applyBusinessStatus(s, c), from);
}

function refusal(fn: () => unknown): HubError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(HubError);
    return err as HubError;
  }
  throw new Error('expected a refusal');
}

describe('business status lifecycle', () => {
  it('walks the ordinary path 01 → 03 → 04 → 05 → 06', () => {
    expect(run(['01', '03', '04', '05', '06'])).to.deep.equal({ code: '06', pending: null });
  });

  it('accepts 03 directly without 01', () => {
    expect(run(['03']).code).to.equal('03');
  });

  it('refuses processing (05) before acceptance (03)', () => {
    const e = refusal(() => run(['01', '05']));
    expect(e.code).to.equal('STATUS_TRANSITION_INVALID');
    expect(e.message).to.contain('05 after 01');
  });

  it('ends the delivery with a refusal (02): nothing may follow', () => {
    const s = run(['01', '02']);
    expect(refusal(() => applyBusinessStatus(s, '03')).code).to.equal('STATUS_TRANSITION_INVALID');
    expect(refusal(() => applyBusinessStatus(s, '13')).code).to.equal('STATUS_TRANSITION_INVALID');
  });

  it('allows nothing after completion (06) except the recall flow', () => {
    const s = run(['03', '06']);
    expect(refusal(() => applyBusinessStatus(s, '05')).code).to.equal('STATUS_TRANSITION_INVALID');
    expect(run(['13', '15'], s)).to.deep.equal({ code: 'recalled', pending: null });
  });

  it('refuses 15 and 16 that answer no recall or update', () => {
    expect(refusal(() => run(['03', '15'])).code).to.equal('STATUS_NO_PENDING_REQUEST');
    expect(refusal(() => run(['16'])).code).to.equal('STATUS_NO_PENDING_REQUEST');
    expect(refusal(() => run(['16'])).message).to.contain('wait for the recall/update to arrive');
    expect(refusal(() => run(['16'])).messageVi).to.contain('hãy chờ văn bản thu hồi');
  });

  it('keeps the progress state when a recall is refused (16)', () => {
    expect(run(['03', '05', '13', '16'])).to.deep.equal({ code: '05', pending: null });
  });

  it('answers an update with 15 without ending the delivery', () => {
    expect(run(['15'], { code: '03', pending: 'update' })).to.deep.equal({ code: '03', pending: null });
  });

  it('refuses a second recall while one is pending', () => {
    expect(refusal(() => run(['03', '13', '13'])).code).to.equal('STATUS_TRANSITION_INVALID');
  });

  it('treats a repeated progress code as a no-op', () => {
    expect(run(['01', '01', '03', '03'])).to.deep.equal({ code: '03', pending: null });
  });

  it('refuses anything after the document was recalled', () => {
    const s = run(['03', '13', '15']);
    expect(refusal(() => applyBusinessStatus(s, '05')).code).to.equal('STATUS_TRANSITION_INVALID');
  });
});
