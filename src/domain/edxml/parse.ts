/**
 * Reads edXML messages. Called only on bytes whose signature has been verified (the canonical
 * signed XML): fast-xml-parser with entity processing OFF, so no DOCTYPE/entity can expand; the
 * five predefined entities and numeric character references are decoded here, nothing else.
 *
 * This is the hub's structure check (there is no XSD validator in the request path): each rule is
 * the one of schemas/edxml.xsd (minOccurs, integer ranges, date patterns, status codes), and the
 * deliberate differences are listed in docs/edxml-conformance.md, with one test per rule
 * (test/unit/edxml/conformance.test.ts, which also runs the XSD on the same messages).
 */
import { XMLParser } from 'fast-xml-parser';
import { HubError } from '../errors.ts';
import { isBusinessCode } from '../status.ts';
import type {
  Attachment,
  Business,
  EdocMessage,
  EdxmlMessage,
  Organ,
  Priority,
  ResponseFor,
  StaffInfo,
  StatusMessage,
} from './model.ts';

const REPEATED = new Set([
  'To',
  'Reference',
  'Attachment',
  'TraceHeader',
  'Receiver',
  'ReplacementInfo',
  'ResponseFor',
  'Appendix',
  'Bussiness',
]);

const parser = new XMLParser({
  // Attachment content is base64: taken as raw text without scanning it character by character (a
  // 5 MB attachment otherwise costs the parser some 150 MB of intermediate strings).
  stopNodes: ['*.ContentTransferEncoded'],
  ignoreAttributes: true,
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Place repeats only under ToPlaces (PromulgationInfo/Place is single).
  isArray: (name, jpath) =>
    REPEATED.has(name) ||
    String(jpath).endsWith('OrganIdList.OrganId') ||
    String(jpath).endsWith('ToPlaces.Place'),
});

type X = Record<string, unknown>;

function decode(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    switch (e) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function obj(v: unknown): X | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as X) : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === '' ? [] : [v];
}

/** Text of an optional element; undefined when absent or empty. */
function text(x: X | undefined, name: string): string | undefined {
  const v = x?.[name];
  if (typeof v === 'string') return v === '' ? undefined : decode(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function required(x: X | undefined, name: string, path: string): string {
  const v = text(x, name);
  if (v === undefined) throw new HubError('SCHEMA_INVALID', `missing ${path}/${name}`);
  return v;
}

/** QCVN 102 dates and timestamps (the XSD's edXML:Date and edXML:Timestamp patterns, no time zone). */
const DATE = /^\d{4}\/\d{2}\/\d{2}$/;
const TIMESTAMP = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/;

/** `s` when absent or matching `pattern`; SCHEMA_INVALID naming the element otherwise. */
function patterned(s: string | undefined, pattern: RegExp, path: string, form: string): string | undefined {
  if (s !== undefined && !pattern.test(s))
    throw new HubError('SCHEMA_INVALID', `${path} must be ${form}, got "${s}"`);
  return s;
}

function date(x: X | undefined, name: string, path: string): string | undefined {
  return patterned(text(x, name), DATE, `${path}/${name}`, 'yyyy/MM/dd');
}

function requiredDate(x: X | undefined, name: string, path: string): string {
  return patterned(required(x, name, path), DATE, `${path}/${name}`, 'yyyy/MM/dd')!;
}

function timestamp(x: X | undefined, name: string, path: string): string {
  return patterned(required(x, name, path), TIMESTAMP, `${path}/${name}`, 'yyyy/MM/dd HH:mm:ss')!;
}

function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function organ(x: X | undefined, path: string): Organ {
  if (!x) throw new HubError('SCHEMA_INVALID', `missing ${path}`);
  return clean({
    organId: required(x, 'OrganId', path),
    organizationInCharge: text(x, 'OrganizationInCharge'),
    organName: text(x, 'OrganName'),
    organAdd: text(x, 'OrganAdd'),
    email: text(x, 'Email'),
    telephone: text(x, 'Telephone'),
    fax: text(x, 'Fax'),
    website: text(x, 'Website'),
  });
}

function staff(x: X | undefined): StaffInfo | undefined {
  if (!x) return undefined;
  return clean({
    department: text(x, 'Department'),
    staff: text(x, 'Staff'),
    mobile: text(x, 'Mobile'),
    email: text(x, 'Email'),
  });
}

function responseFor(x: X, path: string): ResponseFor {
  return clean({
    organId: required(x, 'OrganId', path),
    code: text(x, 'Code'),
    promulgationDate: date(x, 'PromulgationDate', path),
    documentId: required(x, 'DocumentId', path),
  });
}

function intIn<T extends number>(s: string | undefined, allowed: readonly T[], path: string, dflt?: T): T {
  if (s === undefined) {
    if (dflt !== undefined) return dflt;
    throw new HubError('SCHEMA_INVALID', `missing ${path}`);
  }
  // xs:integer lexical form (no "1.0", "0x1", "1e0"), then the range.
  const n = /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
  if (!allowed.includes(n as T))
    throw new HubError('SCHEMA_INVALID', `${path} must be one of ${allowed.join(', ')}, got "${s}"`);
  return n as T;
}

function business(x: X | undefined): Business | undefined {
  if (!x) return undefined;
  const info = obj(x.BussinessDocumentInfo);
  return clean({
    docType: intIn(text(x, 'BussinessDocType'), [0, 1, 2, 3] as const, 'Bussiness/BussinessDocType'),
    reason: text(x, 'BussinessDocReason'),
    documentId: text(x, 'DocumentId'),
    paper: text(x, 'Paper'),
    documentInfo: info
      ? {
          metadataChanged: text(info, 'DocumentInfo') === '1',
          receiversChanged: text(info, 'DocumentReceiver') === '1',
          receivers: arr(obj(info.ReceiverList)?.Receiver).map((r, i) => ({
            organId: required(obj(r), 'OrganId', `ReceiverList/Receiver[${i + 1}]`),
            receiverType: intIn(text(obj(r), 'ReceiverType'), [0, 1] as const, 'Receiver/ReceiverType'),
          })),
        }
      : undefined,
    replacements: arr(obj(x.ReplacementInfoList)?.ReplacementInfo).map((r, i) => {
      const path = `ReplacementInfo[${i + 1}]`;
      const organIds = arr(obj(obj(r)?.OrganIdList)?.OrganId).map((o) => decode(String(o)));
      if (organIds.length === 0) throw new HubError('SCHEMA_INVALID', `missing ${path}/OrganIdList/OrganId`);
      return { documentId: required(obj(r), 'DocumentId', path), organIds };
    }),
    staffInfo: staff(obj(x.StaffInfo)),
  });
}

function edoc(root: X, header: X, mh: X, withContent: boolean): EdocMessage {
  const to = arr(mh.To).map((t, i) => organ(obj(t), `MessageHeader/To[${i + 1}]`));
  if (to.length === 0) throw new HubError('SCHEMA_INVALID', 'missing MessageHeader/To');
  const code = obj(mh.Code);
  const prom = obj(mh.PromulgationInfo);
  const dt = obj(mh.DocumentType);
  const si = obj(mh.SignerInfo);
  const oi = obj(mh.OtherInfo);
  const trace = obj(header.TraceHeaderList);
  const businesses = arr(trace?.Bussiness);
  const body = obj(obj(root.edXMLEnvelope)?.edXMLBody);
  const attachmentsRoot = obj(root.AttachmentEncoded) ?? obj(obj(root.edXMLEnvelope)?.AttachmentEncoded);
  return clean({
    kind: 'edoc' as const,
    from: organ(obj(mh.From), 'MessageHeader/From'),
    to,
    documentId: required(mh, 'DocumentId', 'MessageHeader'),
    code: {
      codeNumber: required(code, 'CodeNumber', 'MessageHeader/Code'),
      codeNotation: required(code, 'CodeNotation', 'MessageHeader/Code'),
    },
    promulgationInfo: clean({
      place: text(prom, 'Place'),
      promulgationDate: requiredDate(prom, 'PromulgationDate', 'MessageHeader/PromulgationInfo'),
    }),
    documentType: dt
      ? clean({ type: text(dt, 'Type'), typeDetail: text(dt, 'TypeDetail'), typeName: text(dt, 'TypeName') })
      : undefined,
    subject: required(mh, 'Subject', 'MessageHeader'),
    content: text(mh, 'Content'),
    signerInfo: si
      ? clean({
          competence: text(si, 'Competence'),
          position: text(si, 'Position'),
          fullName: text(si, 'FullName'),
        })
      : undefined,
    dueDate: date(mh, 'DueDate', 'MessageHeader'),
    toPlaces: arr(obj(mh.ToPlaces)?.Place).map((p) => decode(String(p))),
    steeringType: text(mh, 'SteeringType'),
    responseFor: arr(mh.ResponseFor).map((r, i) =>
      responseFor(obj(r) ?? {}, `MessageHeader/ResponseFor[${i + 1}]`),
    ),
    otherInfo: clean({
      priority: intIn<Priority>(text(oi, 'Priority'), [0, 1, 2, 3, 4], 'OtherInfo/Priority', 0),
      sphereOfPromulgation: text(oi, 'SphereOfPromulgation'),
      typerNotation: text(oi, 'TyperNotation'),
      promulgationAmount: text(oi, 'PromulgationAmount'),
      pageAmount: text(oi, 'PageAmount'),
      direction: text(oi, 'Direction'),
      securityLevel: text(oi, 'SecurityLevel'),
      appendixes: arr(obj(oi?.Appendixes)?.Appendix).map((a) => decode(String(a))),
    }),
    // OrganId is optional: real national-axis messages carry TraceHeaders without it, and the
    // official edXML library reads them (docs/edxml-conformance.md).
    traceHeaders: arr(trace?.TraceHeader).map((t, i) =>
      clean({
        organId: text(obj(t), 'OrganId'),
        timestamp: timestamp(obj(t), 'Timestamp', `TraceHeader[${i + 1}]`),
      }),
    ),
    business: business(obj(businesses[0])),
    manifest: arr(obj(body?.edXMLManifest)?.Reference).map((r, i) =>
      clean({
        contentId: required(obj(r), 'ContentId', `edXMLManifest/Reference[${i + 1}]`),
        contentType: text(obj(r), 'ContentType'),
        description: text(obj(r), 'Description'),
        attachmentName: text(obj(r), 'AttachmentName'),
      }),
    ),
    attachments: arr(attachmentsRoot?.Attachment).map((a, i): Attachment => {
      // Present, possibly empty (xs:base64Binary accepts ""); read only when asked for.
      if (obj(a)?.ContentTransferEncoded === undefined)
        throw new HubError('SCHEMA_INVALID', `missing Attachment[${i + 1}]/ContentTransferEncoded`);
      return clean({
        contentId: required(obj(a), 'ContentId', `Attachment[${i + 1}]`),
        attachmentName: required(obj(a), 'AttachmentName', `Attachment[${i + 1}]`),
        description: text(obj(a), 'Description'),
        contentType: text(obj(a), 'ContentType') ?? 'application/octet-stream',
        contentBase64: withContent ? (text(obj(a), 'ContentTransferEncoded') ?? '').replace(/\s+/g, '') : '',
      });
    }),
  });
}

function status(mh: X): StatusMessage {
  const code = required(mh, 'StatusCode', 'MessageHeader');
  if (!isBusinessCode(code))
    throw new HubError('SCHEMA_INVALID', `MessageHeader/StatusCode "${code}" is not a QCVN 102 status code`);
  const rf = arr(mh.ResponseFor)[0];
  if (!obj(rf)) throw new HubError('SCHEMA_INVALID', 'missing MessageHeader/ResponseFor');
  return clean({
    kind: 'status' as const,
    from: organ(obj(mh.From), 'MessageHeader/From'),
    responseFor: responseFor(obj(rf)!, 'MessageHeader/ResponseFor'),
    staffInfo: staff(obj(mh.StaffInfo)),
    statusCode: code,
    description: text(mh, 'Description'),
    timestamp: timestamp(mh, 'Timestamp', 'MessageHeader'),
  });
}

export interface ParseOptions {
  /**
   * false: attachments keep their names and types but `contentBase64` is '' (the hub relays the
   * signed bytes and never needs the decoded attachments). Default true.
   */
  readonly attachmentContent?: boolean;
}

export function parseEdxml(xml: string, opts: ParseOptions = {}): EdxmlMessage {
  let doc: X;
  try {
    doc = obj(parser.parse(xml)) ?? {};
  } catch (err) {
    throw new HubError('XML_MALFORMED', (err as Error).message);
  }
  const root = obj(doc.edXML);
  const header = obj(obj(root?.edXMLEnvelope)?.edXMLHeader);
  const mh = obj(header?.MessageHeader);
  if (!root || !header || !mh)
    throw new HubError(
      'SCHEMA_INVALID',
      'not an edXML message (edXML/edXMLEnvelope/edXMLHeader/MessageHeader)',
    );
  return mh.StatusCode !== undefined ? status(mh) : edoc(root, header, mh, opts.attachmentContent ?? true);
}

export interface DocumentIdParts {
  senderOrganId: string;
  date: string;
  number: string;
  notation: string;
}

/** `{senderOrganId},{yyyy/MM/dd},{number}/{notation}`; the notation may itself contain '/'. */
export function parseDocumentId(id: string): DocumentIdParts {
  const m = /^([^,]+),(\d{4}\/\d{2}\/\d{2}),([^/]+)\/(.+)$/u.exec(id);
  if (!m)
    throw new HubError(
      'SCHEMA_INVALID',
      `DocumentId "${id}" is not {sender},{yyyy/MM/dd},{number}/{notation}`,
    );
  return { senderOrganId: m[1]!, date: m[2]!, number: m[3]!, notation: m[4]! };
}

export function formatDocumentId(p: DocumentIdParts): string {
  return `${p.senderOrganId},${p.date},${p.number}/${p.notation}`;
}
