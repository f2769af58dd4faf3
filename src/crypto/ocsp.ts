/**
 * OCSP (RFC 6960) for certificates that name a responder in their Authority Information Access:
 * a request with pkijs, the response's signature checked against the issuer (or a responder the
 * issuer delegated, which pkijs checks), the status of exactly this certificate read from it.
 * Also builds responses, for the development PKI and the tests (never used to answer for real CAs).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { x509 } from './x509.ts';
import type { Certificate } from './trust.ts';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto }));

const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

export interface OcspResult {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revocationTime?: Date;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly url: string;
}

const toPkijs = (c: Certificate) => pkijs.Certificate.fromBER(new Uint8Array(c.rawData));

export function ocspUrls(cert: Certificate): string[] {
  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
  return (aia?.ocsp ?? []).filter((g) => g.type === 'url').map((g) => g.value);
}

export async function ocspRequestDer(cert: Certificate, issuer: Certificate): Promise<Uint8Array> {
  const req = new pkijs.OCSPRequest();
  await req.createForCertificate(toPkijs(cert), {
    hashAlgorithm: 'SHA-256',
    issuerCertificate: toPkijs(issuer),
  });
  return new Uint8Array(req.toSchema(true).toBER(false));
}

/** Asks the certificate's responder; null when the certificate names none. Throws on transport or proof failures. */
/** `anchors`: the issuer's own validated path (issuer … root), against which the responder is checked. */
export async function checkOcsp(
  cert: Certificate,
  issuer: Certificate,
  o: { fetch?: typeof fetch; timeoutMs?: number; anchors?: readonly Certificate[] } = {},
): Promise<OcspResult | null> {
  const url = ocspUrls(cert)[0];
  if (!url) return null;
  const res = await (o.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
    body: (await ocspRequestDer(cert, issuer)) as Uint8Array<ArrayBuffer>,
    signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
  });
  if (!res.ok) throw new Error(`OCSP responder answered HTTP ${res.status}`);
  const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(await res.arrayBuffer()));
  if (resp.responseStatus.valueBlock.valueDec !== 0 || !resp.responseBytes)
    throw new Error(`OCSP responseStatus ${resp.responseStatus.valueBlock.valueDec}`);
  if (resp.responseBytes.responseType !== OCSP_BASIC) throw new Error('not a basic OCSP response');
  const basic = pkijs.BasicOCSPResponse.fromBER(
    new Uint8Array(resp.responseBytes.response.valueBlock.valueHexView),
  );
  const issuerP = toPkijs(issuer);
  const anchors = (o.anchors?.length ? o.anchors : [issuer]).map(toPkijs);
  if (!(await basic.verify({ trustedCerts: anchors })))
    throw new Error('the OCSP response signature does not verify');
  const st = await basic.getCertificateStatus(toPkijs(cert), issuerP);
  if (!st.isForCertificate) throw new Error('the OCSP response is not about this certificate');
  const single = basic.tbsResponseData.responses[0];
  const status = st.status === 0 ? 'good' : st.status === 1 ? 'revoked' : 'unknown';
  let revocationTime: Date | undefined;
  if (status === 'revoked') {
    const inner = (single?.certStatus as { valueBlock?: { value?: { toDate?: () => Date }[] } }).valueBlock
      ?.value?.[0];
    revocationTime = inner?.toDate?.();
  }
  return {
    status,
    url,
    ...(revocationTime ? { revocationTime } : {}),
    ...(single?.thisUpdate ? { thisUpdate: single.thisUpdate } : {}),
    ...(single?.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
  };
}

/** Builds a signed basic OCSP response (development responder and tests). */
export async function buildOcspResponse(
  requestDer: Uint8Array,
  issuer: { cert: Certificate; privateKey: CryptoKey },
  statusOf: (
    serialHex: string,
  ) => { status: 'good' } | { status: 'revoked'; at: Date } | { status: 'unknown' },
): Promise<Uint8Array> {
  const req = pkijs.OCSPRequest.fromBER(new Uint8Array(requestDer));
  const basic = new pkijs.BasicOCSPResponse();
  const issuerP = toPkijs(issuer.cert);
  basic.tbsResponseData.responderID = issuerP.subject;
  basic.tbsResponseData.producedAt = new Date();
  for (const r of req.tbsRequest.requestList) {
    const serial = Buffer.from(r.reqCert.serialNumber.valueBlock.valueHexView)
      .toString('hex')
      .replace(/^0+/, '');
    const s = statusOf(serial);
    const single = new pkijs.SingleResponse({
      certID: r.reqCert,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 3_600_000),
    });
    single.certStatus =
      s.status === 'good'
        ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } })
        : s.status === 'revoked'
          ? new asn1js.Constructed({
              idBlock: { tagClass: 3, tagNumber: 1 },
              value: [new asn1js.GeneralizedTime({ valueDate: s.at })],
            })
          : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
    basic.tbsResponseData.responses.push(single);
  }
  basic.certs = [issuerP];
  await basic.sign(issuer.privateKey, 'SHA-256');
  const resp = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: OCSP_BASIC,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  });
  return new Uint8Array(resp.toSchema().toBER(false));
}
