/**
 * Group commit (src/store/group-commit.ts): grouping, per-request answers, failures, size limit,
 * statements in flight and the order of requests for one key.
 */
import { expect } from 'chai';
import { GroupCommit, groupCommitInFlight, setGroupCommitInFlight } from '../../../src/store/group-commit.ts';

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('GroupCommit', () => {
  it('sends the first request alone at once and groups those that queue behind it', async () => {
    const calls: number[][] = [];
    const first = gate();
    const g = new GroupCommit<number, number>(
      async (reqs) => {
        calls.push([...reqs]);
        if (calls.length === 1) await first.p;
        return reqs.map((r) => r * 10);
      },
      { inFlight: 1 },
    );
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
    const g = new GroupCommit<string, string>(
      async (reqs) => {
        if (n++ === 0) {
          await first.p;
          return reqs.map((r) => (r === 'bad' ? new Error('refused: bad') : r.toUpperCase()));
        }
        throw new Error('connection lost');
      },
      { inFlight: 1 },
    );
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
    const g = new GroupCommit<string, string>(
      async (reqs) => {
        if (n++ === 0) await first.p;
        return reqs.map((r) => (r === 'bad' ? new Error('refused: bad') : r.toUpperCase()));
      },
      { inFlight: 1 },
    );
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
      { size: (r) => r, maxSize: 10, inFlight: 1 },
    );
    const all = [g.run(1), g.run(4), g.run(4), g.run(4), g.run(25), g.run(3)];
    first.open();
    await Promise.all(all);
    expect(sizes).to.deep.equal([1, 8, 4, 25, 3]);
  });

  it('keeps up to inFlight statements out, each carrying what queued while every slot was taken', async () => {
    const calls: number[][] = [];
    const gates: ReturnType<typeof gate>[] = [];
    const g = new GroupCommit<number, number>(
      async (reqs) => {
        calls.push([...reqs]);
        const gt = gate();
        gates.push(gt);
        await gt.p;
        return reqs.map((r) => -r);
      },
      { inFlight: 2 },
    );
    const all = [1, 2, 3, 4, 5].map((n) => g.run(n));
    expect(calls).to.deep.equal([[1], [2]]); // two out at once, the rest queued
    gates[1]!.open(); // the second returns first: its slot takes everything queued
    await all[1];
    expect(calls).to.deep.equal([[1], [2], [3, 4, 5]]);
    const six = g.run(6); // both slots taken: waits
    expect(calls).to.have.length(3);
    gates[0]!.open();
    await all[0];
    expect(calls).to.deep.equal([[1], [2], [3, 4, 5], [6]]);
    gates[2]!.open();
    gates[3]!.open();
    expect(await Promise.all([...all, six])).to.deep.equal([-1, -2, -3, -4, -5, -6]);
    expect([g.statements, g.requests, g.maxOut]).to.deep.equal([4, 6, 2]);
  });

  it('never has more than inFlight statements out under a burst', async () => {
    let out = 0;
    let most = 0;
    const g = new GroupCommit<number, void>(
      async (reqs) => {
        most = Math.max(most, ++out);
        await new Promise<void>((r) => setImmediate(r));
        out--;
        return reqs.map(() => undefined);
      },
      { inFlight: 3, maxSize: 4 },
    );
    const all: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      all.push(g.run(i));
      if (i % 7 === 0) await Promise.resolve();
    }
    await Promise.all(all);
    expect(most).to.equal(3);
    expect(g.requests).to.equal(100);
    expect(g.statements).to.be.at.least(25); // maxSize 4
  });

  it('answers per request when statements return out of order, a failing one failing only its own', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const g = new GroupCommit<string, string>(
      async (reqs) => {
        const gt = gate();
        gates.set(reqs.join(), gt);
        await gt.p;
        if (reqs.includes('boom')) throw new Error('statement failed');
        return reqs.map((r) => (r === 'bad' ? new Error('refused: bad') : `ok:${r}`));
      },
      { inFlight: 2 },
    );
    const a = g.run('a');
    const boom = g.run('boom');
    const rest = [g.run('bad'), g.run('c')];
    gates.get('boom')!.open();
    expect(((await boom.catch((e: unknown) => e)) as Error).message).to.equal('statement failed');
    gates.get('bad,c')!.open();
    const settled = await Promise.allSettled(rest);
    expect(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
    ).to.deep.equal(['refused: bad', 'ok:c']);
    gates.get('a')!.open();
    expect(await a).to.equal('ok:a');
  });

  it('holds a request whose key is in flight, keeping the order of one key across statements', async () => {
    const calls: string[][] = [];
    const gates: ReturnType<typeof gate>[] = [];
    const g = new GroupCommit<{ id: string; v: number }, string>(
      async (reqs) => {
        calls.push(reqs.map((r) => `${r.id}${r.v}`));
        const gt = gate();
        gates.push(gt);
        await gt.p;
        return reqs.map((r) => `${r.id}${r.v}`);
      },
      { inFlight: 3, key: (r) => r.id },
    );
    const x1 = g.run({ id: 'x', v: 1 });
    const x2 = g.run({ id: 'x', v: 2 }); // x is out: held
    const y1 = g.run({ id: 'y', v: 1 }); // goes past it
    const x3 = g.run({ id: 'x', v: 3 });
    expect(calls).to.deep.equal([['x1'], ['y1']]);
    gates[1]!.open();
    await y1;
    expect(calls).to.deep.equal([['x1'], ['y1']]); // still held behind x1
    gates[0]!.open();
    await x1;
    expect(calls).to.deep.equal([['x1'], ['y1'], ['x2', 'x3']]); // in their order, together
    gates[2]!.open();
    expect(await Promise.all([x2, x3])).to.deep.equal(['x2', 'x3']);
  });

  it('takes its default bound from setGroupCommitInFlight and refuses a bound under 1', async () => {
    const before = groupCommitInFlight();
    try {
      setGroupCommitInFlight(2);
      const calls: number[][] = [];
      const first = gate();
      const g = new GroupCommit<number, void>(async (reqs) => {
        calls.push([...reqs]);
        if (calls.length <= 2) await first.p;
        return reqs.map(() => undefined);
      });
      const all = [g.run(1), g.run(2), g.run(3), g.run(4)];
      expect(calls).to.deep.equal([[1], [2]]); // two out at once
      first.open();
      await Promise.all(all);
      expect(calls).to.deep.equal([[1], [2], [3, 4]]);
      expect(() => setGroupCommitInFlight(0)).to.throw(RangeError);
      expect(() => new GroupCommit(() => Promise.resolve([]), { inFlight: 0 })).to.throw(RangeError);
    } finally {
      setGroupCommitInFlight(before);
    }
  });
});
