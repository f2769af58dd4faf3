/**
 * The hub's store statement counters (issue 20): every statement its connection sends is counted by
 * command and collection (`hub_store_statements_total`), the writing ones also in
 * `hub_store_write_statements_total`, from the MongoDB driver's command monitoring. A submission and
 * its delivery count write statements on every collection they add records to, whatever the write
 * model's collections are (the test finds them by their record counts, not by name).
 */
import { expect } from 'chai';
import { startTestHub, eventually, type TestHub } from '../support/hub.ts';
import { documentMessage, signed } from '../support/messages.ts';

type Counts = Map<string, number>;

describe('store statement counters', function () {
  this.timeout(60_000);
  let t: TestHub;

  before(async () => {
    t = await startTestHub('statements');
  });
  after(async () => {
    await t?.close();
  });

  /** A counter's values summed by a key of their labels, from the hub's registry. */
  async function counted(
    name: string,
    keyOf: (labels: Partial<Record<string, string | number>>) => string,
  ): Promise<Counts> {
    const metric = (await t.hub.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const out: Counts = new Map();
    for (const v of metric?.values ?? []) {
      const k = keyOf(v.labels);
      out.set(k, (out.get(k) ?? 0) + v.value);
    }
    return out;
  }
  /** By collection (summed over commands). */
  const byCollection = (name: string) => counted(name, (l) => String(l.collection ?? ''));
  /** By `command collection`. */
  const byStatement = (name: string) => counted(name, (l) => `${String(l.command)} ${String(l.collection)}`);

  async function recordCounts(): Promise<Counts> {
    const db = t.hub.mongo.db!;
    const out: Counts = new Map();
    for (const c of await db.listCollections({}, { nameOnly: true }).toArray())
      out.set(c.name, await db.collection(c.name).countDocuments());
    return out;
  }

  it('counts the statements of a submission and its delivery, writes on each collection it fills', async () => {
    const records0 = await recordCounts();
    const all0 = await byCollection('hub_store_statements_total');
    const writes0 = await byCollection('hub_store_write_statements_total');

    const r = await t
      .client('H29.001')
      .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    const B = t.client('H41.001');
    await eventually(
      async () => (await B.inbox()).items.some((i) => i.docId === r.docId),
      20_000,
      'the inbox item',
    );

    const records1 = await recordCounts();
    const all1 = await byCollection('hub_store_statements_total');
    const writes1 = await byCollection('hub_store_write_statements_total');
    const grew = [...records1].filter(([c, n]) => n > (records0.get(c) ?? 0)).map(([c]) => c);
    expect(grew.length, 'collections the submission added records to').to.be.greaterThan(0);
    for (const c of grew) {
      const w = (writes1.get(c) ?? 0) - (writes0.get(c) ?? 0);
      expect(w, `write statements on ${c}`).to.be.at.least(1);
      expect((all1.get(c) ?? 0) - (all0.get(c) ?? 0), `statements on ${c}`).to.be.at.least(w);
    }
    const total = (m: Counts) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(total(all1) - total(all0)).to.be.greaterThan(total(writes1) - total(writes0));
  });

  const delta = (a: Counts, b: Counts, k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);

  it('write model: the document is written once; an acknowledgement reads no delivery, a repeat writes nothing (issue 20)', async () => {
    const s0 = await byStatement('hub_store_statements_total');
    const r = await t
      .client('H29.001')
      .submit(signed(documentMessage('H29.001', ['H41.001']), t.signingKey('H29.001')));
    expect(r.httpStatus).to.equal(202);
    const B = t.client('H41.001');
    const item = await eventually(
      async () => (await B.inbox()).items.find((i) => i.docId === r.docId),
      20_000,
      'the inbox item',
    );
    const s1 = await byStatement('hub_store_statements_total');
    // Inserted once, accepted with its receipt: the claim and the commit point in one statement.
    expect(delta(s0, s1, 'insert documents'), 'inserts of documents').to.equal(1);
    expect(delta(s0, s1, 'update documents'), 'updates of documents').to.equal(0);
    expect((await B.ack(item.id, 'done')).transport).to.equal('acknowledged');
    const s2 = await byStatement('hub_store_statements_total');
    // The inbox entry's removal is the check, then the delivery's update: no read of it first.
    expect(delta(s1, s2, 'find deliveries'), 'reads of deliveries').to.equal(0);
    expect(delta(s1, s2, 'findAndModify inbox_entries'), 'inbox entry removed').to.equal(1);
    expect(delta(s1, s2, 'findAndModify deliveries'), 'delivery acknowledged').to.equal(1);
    // Audited once; no ledger entry for an accepted acknowledgement (src/http/intake.ts).
    expect(delta(s1, s2, 'insert audit'), 'audit entries').to.equal(1);
    expect(delta(s1, s2, 'insert request_signatures'), 'ledger entries').to.equal(0);
    // A second acknowledgement (idempotent) goes through the conditional update and writes nothing.
    expect((await B.ack(item.id, 'fail', 'unreadable')).transport).to.equal('acknowledged');
    const s3 = await byStatement('hub_store_statements_total');
    expect(delta(s2, s3, 'insert audit'), 'audit entries of a repeat').to.equal(0);
    expect(delta(s2, s3, 'insert request_signatures'), 'ledger entries of a repeat').to.equal(0);
    expect(delta(s2, s3, 'findAndModify deliveries'), 'delivery updates of a repeat').to.equal(0);
    const stored = await t.hub.stores.deliveries.get(item.id);
    expect(stored?.ack?.result).to.equal('done');
  });

  it('counts nothing with mongodb.statementMetrics off (HUB_STORE_STATEMENTS=0)', async () => {
    const off = await startTestHub('statements_off', { mongodb: { statementMetrics: false } });
    try {
      const r = await off
        .client('H29.001')
        .submit(signed(documentMessage('H29.001', ['H41.001']), off.signingKey('H29.001')));
      expect(r.httpStatus).to.equal(202);
      const metric = (await off.hub.metrics.registry.getMetricsAsJSON()).find(
        (m) => m.name === 'hub_store_statements_total',
      );
      expect(metric?.values ?? []).to.deep.equal([]);
    } finally {
      await off.close();
    }
  });

  it('serves the counters on /metrics (ops port), with seconds per command', async () => {
    const text = await (await fetch(`${t.hub.healthUrl}/metrics`)).text();
    expect(text).to.match(/^hub_store_statements_total\{command="find",collection="[^"]+"\} \d+/m);
    expect(text).to.match(/^hub_store_write_statements_total\{command="insert",collection="[^"]+"\} \d+/m);
    expect(text).to.match(
      /^hub_store_statement_seconds_total\{command="insert",collection="[^"]+"\} [\d.e-]+/m,
    );
  });
});
