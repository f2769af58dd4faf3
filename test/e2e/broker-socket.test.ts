/**
 * The hub's AMQP connection turns Nagle's algorithm off. With it on (amqplib's default), a publish
 * written while the connection still had an unacknowledged segment in flight (a consumer's ack, the
 * previous publish) waited for the broker's delayed TCP ACK: on the benchmark's half-load run
 * publish-with-confirm took 20 ms on average and up to ~40 ms, against 1.6 ms with TCP_NODELAY
 * (docs/benchmarks.md).
 */
import { expect } from 'chai';
import net from 'node:net';
import { Broker } from '../../src/broker/amqp.ts';
import { createLogger } from '../../src/observability/logger.ts';

describe('broker connection socket', () => {
  it('connects to the real RabbitMQ with TCP_NODELAY set on its socket', async () => {
    const calls: { socket: net.Socket; noDelay: boolean }[] = [];
    type SetNoDelay = (this: net.Socket, noDelay?: boolean) => net.Socket;
    const original = Object.getOwnPropertyDescriptor(net.Socket.prototype, 'setNoDelay')!.value as SetNoDelay;
    net.Socket.prototype.setNoDelay = function (this: net.Socket, noDelay?: boolean) {
      calls.push({ socket: this, noDelay: noDelay !== false });
      return original.call(this, noDelay);
    };
    const broker = new Broker(['amqp://guest:guest@127.0.0.1:5672'], createLogger('silent'), async () => {});
    try {
      await broker.start();
      expect(broker.connected).to.equal(true);
    } finally {
      net.Socket.prototype.setNoDelay = original;
      await broker.close();
    }
    // The last setting made on the AMQP socket (port 5672) is the one in force.
    const amqpCalls = calls.filter((c) => c.socket.remotePort === 5672);
    expect(amqpCalls.length, 'setNoDelay calls on the AMQP socket').to.be.greaterThan(0);
    expect(amqpCalls.at(-1)!.noDelay).to.equal(true);
  });
});
