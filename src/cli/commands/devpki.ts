/**
 * hubctl devpki issue|hub|p12|revoke|crl|serve — DEVELOPMENT PKI tooling over certs-dev/ (never production):
 * issue or renew an agency certificate, issue a new hub signing certificate, revoke one and republish its issuer's CRL, and serve the
 * CRLs over HTTP on loopback so the hub fetches them from the certificates' distribution points.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Command } from 'commander';
import { PROJECT_ROOT } from '../../config.ts';
import {
  createCrl,
  issueCertificate,
  issueHubCertificate,
  loadIssued,
  privateKeyPem,
} from '../../crypto/dev-pki.ts';
import { x509 } from '../../crypto/x509.ts';
import { exportPkcs12, loadAgencyKey, readPassword } from '../../sdk/keystore.ts';

const DIR = path.join(PROJECT_ROOT, 'certs-dev');
const REVOKED = path.join(DIR, 'crl', 'revoked.json');
type Revoked = Record<string, { serialNumber: string; revocationDate: string }[]>; // by CA file name

const ca = async (name: 'state-ca' | 'party-ca' | 'root-ca') =>
  loadIssued(
    readFileSync(path.join(DIR, `${name}.pem`), 'utf8'),
    readFileSync(path.join(DIR, `${name}.key.pem`), 'utf8'),
  );

function crlBase(): string {
  return process.env.DEV_PKI_CRL_BASE ?? 'http://127.0.0.1:8089/crl';
}

async function publishCrl(name: 'state-ca' | 'party-ca' | 'root-ca'): Promise<string> {
  const revoked: Revoked = existsSync(REVOKED) ? (JSON.parse(readFileSync(REVOKED, 'utf8')) as Revoked) : {};
  const entries = (revoked[name] ?? []).map((r) => ({
    serialNumber: r.serialNumber,
    revocationDate: new Date(r.revocationDate),
  }));
  // Development CRLs are valid ten years so that the committed ones never go stale under the tests;
  // production CRLs come from the CA with their own (short) nextUpdate.
  const crl = await createCrl(await ca(name), entries, {
    nextUpdate: new Date(Date.now() + 3650 * 86_400_000),
  });
  const file = path.join(DIR, 'crl', `${name}.crl`);
  writeFileSync(file, Buffer.from(crl.rawData));
  return file;
}

export function register(program: Command): void {
  const json = () => program.opts<{ json?: boolean }>().json === true;
  const dev = program.command('devpki').description('DEVELOPMENT PKI in certs-dev/ (never for production)');
  dev
    .command('issue <code> <name>')
    .description('issue (or renew) a development certificate for an agency')
    .option('--block <block>', 'party issues under the Party CA, anything else under the State CA', 'state')
    .option('--out <dir>', 'output directory', path.join(DIR, 'agencies'))
    .action(async (code: string, name: string, o: { block: string; out: string }) => {
      const issuerName = o.block === 'party' ? 'party-ca' : 'state-ca';
      const it = await issueCertificate({
        subject: `CN=${name}, O=${code}, C=VN`,
        issuer: await ca(issuerName),
        crlUrl: `${crlBase()}/${issuerName}.crl`,
      });
      mkdirSync(o.out, { recursive: true });
      const cert = path.join(o.out, `${code}.pem`);
      writeFileSync(cert, it.cert.toString('pem') + '\n');
      writeFileSync(path.join(o.out, `${code}.key.pem`), (await privateKeyPem(it.keys.privateKey)) + '\n');
      const fp = createHash('sha256').update(Buffer.from(it.cert.rawData)).digest('hex');
      console.log(
        json()
          ? JSON.stringify({ cert, fingerprintSha256: fp, serialNumber: it.cert.serialNumber })
          : `issued ${cert}\n  SHA-256 ${fp}\n  register it: hubctl certs register ${code} ${cert}`,
      );
    });
  dev
    .command('hub')
    .description('issue a new development hub signing certificate (hub-signing EKU) under the State CA')
    .option('--out <dir>', 'output directory (hub.pem, hub.key.pem)', DIR)
    .action(async (o: { out: string }) => {
      const it = await issueHubCertificate({
        issuer: await ca('state-ca'),
        crlUrl: `${crlBase()}/state-ca.crl`,
      });
      mkdirSync(o.out, { recursive: true });
      const cert = path.join(o.out, 'hub.pem');
      writeFileSync(cert, it.cert.toString('pem') + '\n');
      writeFileSync(path.join(o.out, 'hub.key.pem'), (await privateKeyPem(it.keys.privateKey)) + '\n');
      const fp = createHash('sha256').update(Buffer.from(it.cert.rawData)).digest('hex');
      console.log(
        json()
          ? JSON.stringify({ cert, fingerprintSha256: fp })
          : `issued ${cert}\n  SHA-256 ${fp}\n  pin it (pki.hubPins / HUB_PINS), keeping the previous pins while their receipts matter`,
      );
    });
  dev
    .command('p12 <code>')
    .description('export a development agency key, certificate and issuing CA as PKCS#12 (.p12)')
    .option('--out <file>', 'output file (default: <code>.p12 in the current directory)')
    .option('--dir <dir>', 'where <code>.pem and <code>.key.pem are', path.join(DIR, 'agencies'))
    .option('--password-file <file>', 'file whose first line is the password')
    .option('--password-env <var>', 'environment variable holding the password (default HUB_KEY_PASSWORD)')
    .action((code: string, o: { out?: string; dir: string; passwordFile?: string; passwordEnv?: string }) => {
      const password = readPassword({
        ...(o.passwordFile ? { file: o.passwordFile } : {}),
        env: o.passwordEnv ?? 'HUB_KEY_PASSWORD',
      });
      const key = loadAgencyKey({
        keyFile: path.join(o.dir, `${code}.key.pem`),
        certFile: path.join(o.dir, `${code}.pem`),
      });
      const issuer = (['state-ca', 'party-ca'] as const)
        .map((n) => readFileSync(path.join(DIR, `${n}.pem`), 'utf8'))
        .find(
          (pem) =>
            new x509.X509Certificate(pem).subject === new x509.X509Certificate(key.certificatePem).issuer,
        );
      const out = o.out ?? `${code}.p12`;
      writeFileSync(
        out,
        exportPkcs12({ ...key, chainPem: issuer ? [issuer] : [] }, password, { friendlyName: code }),
      );
      console.log(
        json()
          ? JSON.stringify({ file: out, fingerprintSha256: key.fingerprintSha256, chain: issuer ? 1 : 0 })
          : `wrote ${out} (DEVELOPMENT key store of ${code}, SHA-256 ${key.fingerprintSha256})`,
      );
    });
  dev
    .command('revoke <certPem>')
    .description("revoke a development certificate and republish its issuer's CRL")
    .action(async (file: string) => {
      const cert = new x509.X509Certificate(readFileSync(file, 'utf8'));
      const issuerName = cert.issuer.includes('Đảng')
        ? 'party-ca'
        : cert.issuer.includes('RootCA')
          ? 'root-ca'
          : 'state-ca';
      const revoked: Revoked = existsSync(REVOKED)
        ? (JSON.parse(readFileSync(REVOKED, 'utf8')) as Revoked)
        : {};
      (revoked[issuerName] ??= []).push({
        serialNumber: cert.serialNumber,
        revocationDate: new Date().toISOString(),
      });
      writeFileSync(REVOKED, JSON.stringify(revoked, null, 2) + '\n');
      const crl = await publishCrl(issuerName);
      console.log(
        json()
          ? JSON.stringify({ crl, serialNumber: cert.serialNumber })
          : `revoked serial ${cert.serialNumber}; published ${crl}`,
      );
    });
  dev
    .command('crl')
    .description('republish the three CRLs (fresh thisUpdate/nextUpdate)')
    .action(async () => {
      for (const n of ['root-ca', 'state-ca', 'party-ca'] as const) console.log(await publishCrl(n));
    });
  dev
    .command('serve')
    .description('serve certs-dev/crl over HTTP on 127.0.0.1 (the dev certificates’ distribution points)')
    .option('--port <n>', 'port', '8089')
    .action(async (o: { port: string }) => {
      const server = http.createServer((req, res) => {
        const m = /^\/crl\/([a-z-]+\.crl)$/.exec(req.url ?? '');
        const file = m ? path.join(DIR, 'crl', m[1]!) : '';
        if (!file || !existsSync(file)) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(readFileSync(file));
      });
      await new Promise<void>((r) => server.listen(Number(o.port), '127.0.0.1', r));
      console.log(`serving ${path.join(DIR, 'crl')} at http://127.0.0.1:${o.port}/crl/`);
    });
}
