/**
 * Federation peer state behaves the same on every adapter (harness.ts). A peer's units, written by
 * agency syncs, survive the polls and relays that record contact and errors at the same time: on
 * FerretDB 1.24 an update rewrites the whole document without isolation, so when both kinds lived in
 * one document a poll's write could put back the units as they were before the sync (a three-process
 * federation test saw a peer acting for no unit and its documents refused: CALLER_MISMATCH).
 */
import { expect } from 'chai';
import {
  MongoPeerStateStore,
  PEER_COLLECTION,
  PEER_STATE_COLLECTION,
  PEER_UNITS_COLLECTION,
  splitPeerRecords,
} from '../../src/store/peer-store.ts';
import { describeAdapters } from './harness.ts';

const T0 = new Date('2026-12-06T05:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describeAdapters('PeerStateStore', (ctx) => {
  it('keeps the units a sync saved while polls and relays record contact and errors', async () => {
    const { conn } = ctx();
    const sync = new MongoPeerStateStore(conn);
    const poll = new MongoPeerStateStore(conn);
    await poll.recordContact('b', at(0));
    for (let round = 1; round <= 8; round++) {
      const codes = [`H${round}`, `H${round}.001`];
      await Promise.all([
        sync.saveAgencies('b', codes, [], at(round)),
        ...Array.from({ length: 12 }, (_, i) =>
          i % 3 === 0
            ? poll.recordError('b', 'getReceivedEdocList', 'connect ECONNREFUSED', at(round))
            : poll.recordContact('b', at(round), i % 2 ? 'received' : undefined),
        ),
      ]);
      expect((await sync.get('b'))?.agencies, `round ${round}`).to.deep.equal(codes);
    }
    const s = await sync.get('b');
    expect(s?.lastSyncAt).to.be.instanceOf(Date);
    expect(s?.lastError?.op).to.equal('getReceivedEdocList');
    expect((await sync.list()).map((x) => x.peerId)).to.deep.equal(['b']);
  });

  it('moves the units and state an older hub kept with the definition (migration), once', async () => {
    const { conn } = ctx();
    const db = conn.db!;
    await db.collection<{ _id: string }>(PEER_COLLECTION).insertOne({
      _id: 'axis',
      agencies: ['G01', 'G02'],
      conflicts: [],
      lastSyncAt: at(1),
      lastContactAt: at(2),
      received: 5,
      def: { name: 'kept' },
    } as { _id: string });
    expect(await splitPeerRecords(db)).to.equal(1);
    expect(await splitPeerRecords(db)).to.equal(0);
    const s = await new MongoPeerStateStore(conn).get('axis');
    expect(s?.agencies).to.deep.equal(['G01', 'G02']);
    expect(s?.received).to.equal(5);
    expect(s?.lastContactAt?.toISOString()).to.equal(at(2).toISOString());
    const left = await db.collection(PEER_COLLECTION).findOne({ _id: 'axis' } as object);
    expect(left).to.deep.equal({ _id: 'axis', def: { name: 'kept' } });
    expect(await db.collection(PEER_UNITS_COLLECTION).countDocuments()).to.equal(1);
    expect(await db.collection(PEER_STATE_COLLECTION).countDocuments()).to.equal(1);
  });
});
