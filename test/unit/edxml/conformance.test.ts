/**
 * QCVN 102 strictness (docs/edxml-conformance.md): for each structural rule, the minimal message
 * without an optional element is accepted and the one without a required element (or with a value
 * out of its type) is refused — by the hub's parser AND by schemas/edxml.xsd (xmllint-wasm, a dev
 * dependency, all messages in one run). Deliberate differences are listed apart, each side asserted.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { PROJECT_ROOT } from '../../../src/config.ts';
import { buildEdxml, parseEdxml } from '../../../src/domain/edxml/index.ts';
import { HubError } from '../../../src/domain/errors.ts';
import { documentMessage } from '../../support/messages.ts';

const NS = 'http://www.mic.gov.vn/TBT/QCVN_102_2016';
const e = (name: string, ...kids: string[]) => `<edXML:${name}>${kids.join('')}</edXML:${name}>`;

interface DocParts {
  from: string;
  to: string;
  documentId: string;
  code: string;
  prom: string;
  subject: string;
  /** Optional MessageHeader children after Subject, in schema order. */
  after: string;
  /** TraceHeaderList (or ''). */
  trace: string;
  /** edXMLBody (or ''). */
  body: string;
  /** AttachmentEncoded (or ''). */
  attachments: string;
}

const MINIMAL: DocParts = {
  from: e('From', e('OrganId', 'H29.001')),
  to: e('To', e('OrganId', 'H41.001')),
  documentId: e('DocumentId', 'H29.001,2026/11/22,1/UBND'),
  code: e('Code', e('CodeNumber', '1'), e('CodeNotation', 'UBND')),
  prom: e('PromulgationInfo', e('PromulgationDate', '2026/11/22')),
  subject: e('Subject', 'V/v thử'),
  after: '',
  trace: '',
  body: '',
  attachments: '',
};

function envelope(header: string): string {
  return `<edXML:edXML xmlns:edXML="${NS}">${e('edXMLEnvelope', e('edXMLHeader', header))}</edXML:edXML>`;
}

function doc(p: Partial<DocParts> = {}): string {
  const d = { ...MINIMAL, ...p };
  const mh = e('MessageHeader', d.from, d.to, d.documentId, d.code, d.prom, d.subject, d.after);
  return `<edXML:edXML xmlns:edXML="${NS}">${e('edXMLEnvelope', e('edXMLHeader', mh, d.trace), d.body)}${d.attachments}</edXML:edXML>`;
}

const RESPONSE_FOR = e('ResponseFor', e('OrganId', 'H29.001'), e('DocumentId', 'H29.001,2026/11/22,1/UBND'));

interface StatusParts {
  responseFor: string;
  staff: string;
  statusCode: string;
  description: string;
  timestamp: string;
}

function status(p: Partial<StatusParts> = {}): string {
  const s = {
    responseFor: RESPONSE_FOR,
    staff: '',
    statusCode: e('StatusCode', '01'),
    description: '',
    timestamp: e('Timestamp', '2026/11/22 08:30:00'),
    ...p,
  };
  return envelope(
    e(
      'MessageHeader',
      e('From', e('OrganId', 'H41.001')),
      s.responseFor,
      s.staff,
      s.statusCode,
      s.description,
      s.timestamp,
    ),
  );
}

const trace = (...kids: string[]) => e('TraceHeaderList', ...kids);
const traceHeader = (...kids: string[]) => e('TraceHeader', ...kids);
const TS = e('Timestamp', '2026/11/22 08:30:00');
const bussiness = (...kids: string[]) => trace(e('Bussiness', ...kids));
const DOC_TYPE = e('BussinessDocType', '3');
const attachment = (...kids: string[]) => e('AttachmentEncoded', e('Attachment', ...kids));
const CID = e('ContentId', 'cid:1');
const NAME = e('AttachmentName', 'a.pdf');
const CONTENT = e('ContentTransferEncoded', 'JVBERi0=');

interface Case {
  /** The rule (a row of docs/edxml-conformance.md). */
  rule: string;
  xml: string;
  /** undefined: accepted; a string: refused as SCHEMA_INVALID with this in the reason. */
  refused?: string;
}

const CASES: Case[] = [
  { rule: 'minimal document message (no optional element)', xml: doc() },
  { rule: 'minimal status message (no optional element)', xml: status() },
  {
    rule: 'MessageHeader is required',
    xml: envelope(''),
    refused: 'edXML/edXMLEnvelope/edXMLHeader/MessageHeader',
  },
  { rule: 'From is required', xml: doc({ from: '' }), refused: 'missing MessageHeader/From' },
  {
    rule: 'From/OrganId is required',
    xml: doc({ from: e('From', e('OrganName', 'UBND')) }),
    refused: 'From/OrganId',
  },
  {
    rule: 'From: all other Organ elements are optional',
    xml: doc({ from: e('From', e('OrganId', 'H29.001'), e('OrganName', 'UBND'), e('Website', 'x.gov.vn')) }),
  },
  { rule: 'To: at least one', xml: doc({ to: '' }), refused: 'missing MessageHeader/To' },
  {
    rule: 'To/OrganId is required',
    xml: doc({ to: e('To', e('OrganName', 'UBND')) }),
    refused: 'To[1]/OrganId',
  },
  {
    rule: 'To: several',
    xml: doc({ to: e('To', e('OrganId', 'H41.001')) + e('To', e('OrganId', 'H41.002')) }),
  },
  { rule: 'DocumentId is required', xml: doc({ documentId: '' }), refused: 'MessageHeader/DocumentId' },
  { rule: 'Code is required', xml: doc({ code: '' }), refused: 'MessageHeader/Code/CodeNumber' },
  {
    rule: 'Code/CodeNumber is required',
    xml: doc({ code: e('Code', e('CodeNotation', 'UBND')) }),
    refused: 'Code/CodeNumber',
  },
  {
    rule: 'Code/CodeNotation is required',
    xml: doc({ code: e('Code', e('CodeNumber', '1')) }),
    refused: 'Code/CodeNotation',
  },
  {
    rule: 'PromulgationInfo is required',
    xml: doc({ prom: '' }),
    refused: 'PromulgationInfo/PromulgationDate',
  },
  {
    rule: 'PromulgationInfo/PromulgationDate is required (Place optional)',
    xml: doc({ prom: e('PromulgationInfo', e('Place', 'Hà Nội')) }),
    refused: 'PromulgationInfo/PromulgationDate',
  },
  {
    rule: 'PromulgationDate is yyyy/MM/dd',
    xml: doc({ prom: e('PromulgationInfo', e('PromulgationDate', '22/11/2026')) }),
    refused: 'PromulgationDate must be yyyy/MM/dd',
  },
  { rule: 'Subject is required', xml: doc({ subject: '' }), refused: 'MessageHeader/Subject' },
  { rule: 'DueDate is optional, yyyy/MM/dd', xml: doc({ after: e('DueDate', '2026/11/30') }) },
  {
    rule: 'DueDate is optional, yyyy/MM/dd',
    xml: doc({ after: e('DueDate', '2026-11-30') }),
    refused: 'DueDate must be yyyy/MM/dd',
  },
  { rule: 'OtherInfo/Priority is optional', xml: doc({ after: e('OtherInfo', e('Direction', 'false')) }) },
  { rule: 'OtherInfo/Priority is 0..4', xml: doc({ after: e('OtherInfo', e('Priority', '4')) }) },
  {
    rule: 'OtherInfo/Priority is 0..4',
    xml: doc({ after: e('OtherInfo', e('Priority', '5')) }),
    refused: 'Priority must be one of',
  },
  {
    rule: 'OtherInfo/Priority is an xs:integer',
    xml: doc({ after: e('OtherInfo', e('Priority', '1.0')) }),
    refused: 'Priority must be one of',
  },
  {
    rule: 'ResponseFor (document): optional, Code and PromulgationDate optional',
    xml: doc({ after: RESPONSE_FOR }),
  },
  {
    rule: 'ResponseFor/OrganId is required',
    xml: doc({ after: e('ResponseFor', e('DocumentId', 'H29.001,2026/11/22,1/UBND')) }),
    refused: 'ResponseFor[1]/OrganId',
  },
  {
    rule: 'ResponseFor/DocumentId is required',
    xml: doc({ after: e('ResponseFor', e('OrganId', 'H29.001')) }),
    refused: 'ResponseFor[1]/DocumentId',
  },
  {
    rule: 'ResponseFor/PromulgationDate is yyyy/MM/dd',
    xml: doc({
      after: e(
        'ResponseFor',
        e('OrganId', 'H29.001'),
        e('PromulgationDate', '2026.11.01'),
        e('DocumentId', 'x'),
      ),
    }),
    refused: 'ResponseFor[1]/PromulgationDate must be yyyy/MM/dd',
  },
  { rule: 'TraceHeaderList is optional, may be empty', xml: doc({ trace: trace() }) },
  { rule: 'TraceHeader/OrganId is optional', xml: doc({ trace: trace(traceHeader(TS)) }) },
  {
    rule: 'TraceHeader/Timestamp is required',
    xml: doc({ trace: trace(traceHeader(e('OrganId', 'H29.001'))) }),
    refused: 'TraceHeader[1]/Timestamp',
  },
  {
    rule: 'TraceHeader/Timestamp is yyyy/MM/dd HH:mm:ss',
    xml: doc({ trace: trace(traceHeader(e('Timestamp', '2026-11-22T08:30:00Z'))) }),
    refused: 'TraceHeader[1]/Timestamp must be yyyy/MM/dd HH:mm:ss',
  },
  { rule: 'Bussiness: only BussinessDocType required', xml: doc({ trace: bussiness(DOC_TYPE) }) },
  {
    rule: 'Bussiness/BussinessDocType is required',
    xml: doc({ trace: bussiness(e('BussinessDocReason', 'thu hồi')) }),
    refused: 'Bussiness/BussinessDocType',
  },
  {
    rule: 'Bussiness/BussinessDocType is 0..3',
    xml: doc({ trace: bussiness(e('BussinessDocType', '4')) }),
    refused: 'BussinessDocType must be one of',
  },
  {
    rule: 'Receiver/OrganId and ReceiverType are required',
    xml: doc({
      trace: bussiness(
        DOC_TYPE,
        e(
          'BussinessDocumentInfo',
          e('ReceiverList', e('Receiver', e('OrganId', 'H41.001'), e('ReceiverType', '1'))),
        ),
      ),
    }),
  },
  {
    rule: 'Receiver/OrganId and ReceiverType are required',
    xml: doc({
      trace: bussiness(
        DOC_TYPE,
        e('BussinessDocumentInfo', e('ReceiverList', e('Receiver', e('ReceiverType', '1')))),
      ),
    }),
    refused: 'Receiver[1]/OrganId',
  },
  {
    rule: 'Receiver/OrganId and ReceiverType are required',
    xml: doc({
      trace: bussiness(
        DOC_TYPE,
        e('BussinessDocumentInfo', e('ReceiverList', e('Receiver', e('OrganId', 'H41.001')))),
      ),
    }),
    refused: 'missing Receiver/ReceiverType',
  },
  {
    rule: 'ReplacementInfo: DocumentId and at least one OrganIdList/OrganId',
    xml: doc({
      trace: bussiness(
        DOC_TYPE,
        e(
          'ReplacementInfoList',
          e('ReplacementInfo', e('DocumentId', 'x'), e('OrganIdList', e('OrganId', 'H41.001'))),
        ),
      ),
    }),
  },
  {
    rule: 'ReplacementInfo: DocumentId and at least one OrganIdList/OrganId',
    xml: doc({
      trace: bussiness(
        DOC_TYPE,
        e('ReplacementInfoList', e('ReplacementInfo', e('OrganIdList', e('OrganId', 'H41.001')))),
      ),
    }),
    refused: 'ReplacementInfo[1]/DocumentId',
  },
  {
    rule: 'ReplacementInfo: DocumentId and at least one OrganIdList/OrganId',
    xml: doc({
      trace: bussiness(
        DOC_TYPE,
        e('ReplacementInfoList', e('ReplacementInfo', e('DocumentId', 'x'), e('OrganIdList'))),
      ),
    }),
    refused: 'ReplacementInfo[1]/OrganIdList/OrganId',
  },
  { rule: 'edXMLManifest may list no Reference', xml: doc({ body: e('edXMLBody', e('edXMLManifest')) }) },
  {
    rule: 'Reference/ContentId is required (the rest optional)',
    xml: doc({ body: e('edXMLBody', e('edXMLManifest', e('Reference', e('AttachmentName', 'a.pdf')))) }),
    refused: 'Reference[1]/ContentId',
  },
  {
    rule: 'Attachment: ContentId, AttachmentName, ContentTransferEncoded required',
    xml: doc({ attachments: attachment(CID, NAME, CONTENT) }),
  },
  {
    rule: 'Attachment: ContentId, AttachmentName, ContentTransferEncoded required',
    xml: doc({ attachments: attachment(NAME, CONTENT) }),
    refused: 'Attachment[1]/ContentId',
  },
  {
    rule: 'Attachment: ContentId, AttachmentName, ContentTransferEncoded required',
    xml: doc({ attachments: attachment(CID, CONTENT) }),
    refused: 'Attachment[1]/AttachmentName',
  },
  {
    rule: 'Attachment: ContentId, AttachmentName, ContentTransferEncoded required',
    xml: doc({ attachments: attachment(CID, NAME) }),
    refused: 'Attachment[1]/ContentTransferEncoded',
  },
  {
    rule: 'status: StaffInfo and Description optional',
    xml: status({ staff: e('StaffInfo', e('Staff', 'A')), description: e('Description', 'Đã đến') }),
  },
  {
    rule: 'status: ResponseFor is required',
    xml: status({ responseFor: '' }),
    refused: 'missing MessageHeader/ResponseFor',
  },
  {
    rule: 'status: StatusCode is required',
    xml: status({ statusCode: '' }),
    refused: 'missing MessageHeader/To',
  },
  {
    rule: 'status: StatusCode is a QCVN 102 status code',
    xml: status({ statusCode: e('StatusCode', '07') }),
    refused: 'is not a QCVN 102 status code',
  },
  {
    rule: 'status: Timestamp is required',
    xml: status({ timestamp: '' }),
    refused: 'MessageHeader/Timestamp',
  },
  {
    rule: 'status: Timestamp is yyyy/MM/dd HH:mm:ss',
    xml: status({ timestamp: e('Timestamp', '2026/11/22') }),
    refused: 'Timestamp must be yyyy/MM/dd HH:mm:ss',
  },
];

/** The deliberate differences of docs/edxml-conformance.md: each side's outcome. */
const DIFFERENCES: (Case & { xsdValid: boolean })[] = [
  {
    rule: 'empty required text: the hub refuses, xs:string accepts',
    xml: doc({ subject: e('Subject', '') }),
    refused: 'MessageHeader/Subject',
    xsdValid: true,
  },
  {
    rule: 'element order: the hub reads any order, the XSD sequence refuses',
    xml: doc({ trace: trace(e('Bussiness', DOC_TYPE), traceHeader(TS)) }),
    xsdValid: false,
  },
  {
    rule: 'unknown elements: the hub ignores them, the XSD refuses',
    xml: doc({ after: e('Extension', 'x') }),
    xsdValid: false,
  },
];

function parserOutcome(xml: string): string | undefined {
  try {
    parseEdxml(xml);
    return undefined;
  } catch (err) {
    expect(err).to.be.instanceOf(HubError);
    expect((err as HubError).code).to.equal('SCHEMA_INVALID');
    return (err as Error).message;
  }
}

describe('edXML strictness: the parser and schemas/edxml.xsd agree (QCVN 102)', function () {
  this.timeout(60_000);
  const all: (Case & { xsdValid?: boolean })[] = [...CASES, ...DIFFERENCES];
  const xsdValid = new Map<number, boolean>();

  before(async () => {
    const schema = {
      fileName: 'edxml.xsd',
      contents: readFileSync(path.join(PROJECT_ROOT, 'schemas/edxml.xsd'), 'utf8'),
    };
    const r = await validateXML({
      xml: all.map((c, i) => ({ fileName: `m${i}.xml`, contents: c.xml })),
      schema,
    });
    for (let i = 0; i < all.length; i++) xsdValid.set(i, r.rawOutput.includes(`m${i}.xml validates`));
  });

  all.forEach((c, i) => {
    const xsd = 'xsdValid' in c ? c.xsdValid : c.refused === undefined;
    const title = 'xsdValid' in c ? 'deliberate difference' : c.refused === undefined ? 'accepts' : 'refuses';
    it(`${title}: ${c.rule}${c.refused ? ` (${c.refused})` : ''}`, () => {
      const reason = parserOutcome(c.xml);
      if (c.refused === undefined) expect(reason, 'parser').to.equal(undefined);
      else expect(reason, 'parser').to.contain(c.refused);
      expect(xsdValid.get(i), 'XSD').to.equal(xsd);
    });
  });

  it('builds and reads back a document whose TraceHeader has no OrganId (national-axis traffic)', () => {
    const m = documentMessage('H29.001', ['H41.001'], {
      traceHeaders: [{ timestamp: '2026/11/22 09:00:00' }],
    });
    const xml = buildEdxml(m);
    expect(xml).to.contain('<edXML:TraceHeader><edXML:Timestamp>');
    const back = parseEdxml(xml);
    expect(back.kind === 'edoc' && back.traceHeaders).to.deep.equal([{ timestamp: '2026/11/22 09:00:00' }]);
  });
});
