/** Group commit (src/store/group-commit.ts): grouping, per-request answers, failures, size limit. */
import { expect } from 'chai';
import { GroupCommit } from '../../../src/store/group-commit.ts';

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('GroupCommit', () => {
  it('sends the first request alone at once and groups those that queue behind it', async () => {
    const calls: number[][] = [];
    const first = gate();
    const g = new GroupCommit<number, number>(async (reqs) => {
      calls.push([...reqs]);
      if (calls.length === 1) await first.p;
      return reqs.map((r) => r * 10);
    });
    const a = g.run(1);
    const rest = [g.run(2), g.run(3), g.run(4)];
    expect(calls).to.deep.equal([[1]]); // out before the others arrived
    first.open();
    expect(await Promise.all([a, ...rest])).to.deep.equal([10, 20, 30, 40]);
    expect(calls).to.deep.equal([[1], [2, 3, 4]]);
    expect([g.statements, g.requests]).to.deep.equal([2, 4]);
  });

  it('fails every request of a group whose write throws, and only that group', async () => {
    const first = gate();
    let n = 0;
    const g = new GroupCommit<string, string>(async (reqs) => {
      if (n++ === 0) {
        await first.p;
        return reqs.map((r) => (r === 'bad' ? new Error('refused: bad') : r.toUpperCase()));
      }
      throw new Error('connection lost');
    });
    const ok = g.run('ok');
    const bad = g.run('bad'); // queued behind 'ok': written by the next group
    const later = g.run('x');
    first.open();
    expect(await ok).to.equal('OK');
    const settled = await Promise.allSettled([bad, later]);
    expect(settled.map((s) => s.status)).to.deep.equal(['rejected', 'rejected']);
    expect(((settled[0] as PromiseRejectedResult).reason as Error).message).to.equal('connection lost');
  });

  it('answers each request of a group with its own result or error', async () => {
    const first = gate();
    let n = 0;
    const g = new GroupCommit<string, string>(async (reqs) => {
      if (n++ === 0) await first.p;
      return reqs.map((r) => (r === 'bad' ? new Error('refused: bad') : r.toUpperCase()));
    });
    const head = g.run('head');
    const group = [g.run('a'), g.run('bad'), g.run('b')];
    first.open();
    await head;
    const settled = await Promise.allSettled(group);
    expect(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
    ).to.deep.equal(['A', 'refused: bad', 'B']);
  });

  it('keeps every statement within maxSize, a lone oversized request going alone', async () => {
    const sizes: number[] = [];
    const first = gate();
    const g = new GroupCommit<number, void>(
      async (reqs) => {
        sizes.push(reqs.reduce((a, b) => a + b, 0));
        if (sizes.length === 1) await first.p;
        return reqs.map(() => undefined);
      },
      { size: (r) => r, maxSize: 10 },
    );
    const all = [g.run(1), g.run(4), g.run(4), g.run(4), g.run(25), g.run(3)];
    first.open();
    await Promise.all(all);
    expect(sizes).to.deep.equal([1, 8, 4, 25, 3]);
  });
});
