/**
 * PeerRelay's decisions (src/federation/relay.ts), with a stand-in protocol client: the peer's
 * answers and transport errors map onto the push error classes and the per-peer circuit breaker.
 */
import assert from 'node:assert/strict';
import { CircuitBreakers } from '../../../src/delivery/circuit-breaker.ts';
import { RefusedByEndpointError, TransientDeliveryError } from '../../../src/delivery/push.ts';
import { PoisonTaskError } from '../../../src/delivery/worker.ts';
import { PeerRefusal, type PeerClient } from '../../../src/federation/client.ts';
import { PeerConfigSchema } from '../../../src/federation/config.ts';
import { PeerRegistry } from '../../../src/federation/peers.ts';
import { PeerRelay } from '../../../src/federation/relay.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { Agency, DeliveryRecord } from '../../../src/domain/types.ts';

const delivery = { id: 'd1:H41', docId: 'd1', senderCode: 'G22', recipientCode: 'H41' } as DeliveryRecord;
const remote = (peer: string) => ({ code: 'H41', delivery: { mode: 'peer', peer } }) as Agency;

function relayWith(sendEdoc: () => Promise<string>, outbound: 'push' | 'hold' = 'push', enabled = true) {
  const calls: string[] = [];
  const client = {
    sendEdoc: async () => {
      calls.push('sendEdoc');
      return sendEdoc();
    },
  } as unknown as PeerClient;
  const config = PeerConfigSchema.parse({
    id: 'b',
    baseUrl: 'https://peer.example/vdxp',
    systemId: 'hub-a',
    secretEnv: 'UNUSED',
    trustedRoots: ['x.pem'],
    outbound,
  });
  const breakers = new CircuitBreakers({ threshold: 2, cooldownMs: 60_000 });
  const relay = new PeerRelay({
    peers: () =>
      new PeerRegistry([
        {
          id: 'b',
          name: 'b',
          config,
          client,
          trustedRoots: new Set(),
          source: 'store',
          enabled,
          version: 1,
          agenciesPrefix: [],
        },
      ]),
    breakers,
    state: { recordContact: () => Promise.resolve(), recordError: () => Promise.resolve() },
    log: createLogger('silent'),
  });
  const run = () => relay.relay(delivery, remote('b'), () => Promise.resolve(Buffer.from('<edXML/>')));
  return { relay, run, calls, breakers };
}

describe('federation relay: outcomes and error classes', () => {
  it("the peer's acceptance is 'pushed'; a peer that collects itself gets 'hold' without a call", async () => {
    assert.equal(await relayWith(() => Promise.resolve('peer-doc')).run(), 'pushed');
    const held = relayWith(() => Promise.resolve('x'), 'hold');
    assert.equal(await held.run(), 'hold');
    assert.deepEqual(held.calls, []);
  });

  it("a FAIL envelope is the peer's refusal: the delivery ends (RefusedByEndpointError)", async () => {
    const r = relayWith(() =>
      Promise.reject(new PeerRefusal('sendEdoc', '9', 'Chữ ký không hợp lệ [SIGNATURE_INVALID]')),
    );
    await assert.rejects(
      r.run(),
      (e: unknown) => e instanceof RefusedByEndpointError && /SIGNATURE_INVALID/.test(e.message),
    );
    assert.equal(r.breakers.isOpen('peer:b'), false);
  });

  it("the peer's temporary refusals and transport errors are retried, and open the breaker", async () => {
    const r = relayWith(() => Promise.reject(new PeerRefusal('sendEdoc', '503', 'busy')));
    await assert.rejects(r.run(), TransientDeliveryError);
    const t = relayWith(() => Promise.reject(new TransientDeliveryError('ECONNREFUSED')));
    await assert.rejects(t.run(), TransientDeliveryError);
    await assert.rejects(t.run(), TransientDeliveryError);
    assert.equal(t.breakers.isOpen('peer:b'), true);
    await assert.rejects(t.run(), /circuit open for peer b/);
    assert.equal(t.calls.length, 2); // no call while the circuit is open
  });

  it('a unit whose peer is not configured is a poison task (dead letter, replayable)', async () => {
    const r = relayWith(() => Promise.resolve('x'));
    await assert.rejects(
      r.relay.relay(delivery, remote('gone'), () => Promise.resolve(Buffer.alloc(0))),
      PoisonTaskError,
    );
  });

  it('a peer disabled by an administrator is not called: retried later (fedapi)', async () => {
    const r = relayWith(() => Promise.resolve('x'), 'push', false);
    await assert.rejects(
      r.run(),
      (e: unknown) => e instanceof TransientDeliveryError && /disabled/.test(e.message),
    );
    assert.deepEqual(r.calls, []);
  });
});
