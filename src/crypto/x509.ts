/**
 * The one import point for @peculiar/x509: it needs the Reflect metadata polyfill (tsyringe) loaded
 * before it, and Node's WebCrypto as its provider.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
