/** edXML from typed objects and back: every QCVN 102 field of docs/domain.md §3, lossless; SDK message builders. */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildEdxml,
  parseEdxml,
  type EdocMessage,
  type StatusMessage,
} from '../../../src/domain/edxml/index.ts';
import {
  attachmentFromBuffer,
  attachmentFromFile,
  docIdOf,
  newDocument,
  replaceDocument,
  revokeDocument,
  statusFor,
  updateDocument,
  vnDate,
  vnTimestamp,
} from '../../../src/sdk/messages.ts';
import { docIdFor, edocKey } from '../../../src/domain/ids.ts';

const organ = (id: string, n: number) => ({
  organId: id,
  organizationInCharge: `Cơ quan chủ quản ${n}`,
  organName: `UBND phường ${n} <&> "Sài Gòn"`,
  organAdd: `${n} Lê Thánh Tôn, TP. Hồ Chí Minh`,
  email: `vanthu${n}@hochiminhcity.gov.vn`,
  telephone: `028 3829 ${1000 + n}`,
  fax: `028 3829 ${2000 + n}`,
  website: `https://p${n}.hochiminhcity.gov.vn`,
});

/** Every field of a document message populated, with characters that need escaping. */
const full: EdocMessage = {
  kind: 'edoc',
  from: organ('H29.001', 1),
  to: [organ('H41.001', 2), organ('000.00.00.G22', 3)],
  documentId: 'H29.001,2026/11/22,7816/UBND-VP',
  code: { codeNumber: '7816', codeNotation: 'UBND-VP' },
  promulgationInfo: { place: 'Thành phố Hồ Chí Minh', promulgationDate: '2026/11/22' },
  documentType: { type: '1', typeDetail: '2', typeName: 'Công văn' },
  subject: 'V/v sắp xếp đơn vị hành chính cấp xã & "hai cấp" <khẩn>',
  content: "Nội dung: a < b && c > d; 'trích dẫn'",
  signerInfo: { competence: 'TM. UBND', position: 'Chủ tịch', fullName: 'Nguyễn Văn Ấ' },
  dueDate: '2026/11/30',
  toPlaces: ['Như trên', 'Lưu: VT, VP'],
  steeringType: '2',
  responseFor: [
    {
      organId: '000.00.00.G22',
      code: '123/VPCP-TTĐT',
      promulgationDate: '2026/11/01',
      documentId: '000.00.00.G22,2026/11/01,123/VPCP-TTĐT',
    },
    { organId: 'H41.001', documentId: 'H41.001,2026/10/30,9/UBND' },
  ],
  otherInfo: {
    priority: 2,
    sphereOfPromulgation: 'Toàn quốc',
    typerNotation: 'NVA',
    promulgationAmount: '10',
    pageAmount: '3',
    direction: 'Ý kiến chỉ đạo',
    securityLevel: 'MẬT',
    appendixes: ['Phụ lục I', 'Phụ lục II'],
  },
  traceHeaders: [
    { organId: 'H29.001', timestamp: '2026/11/22 09:00:00' },
    { organId: 'H29', timestamp: '2026/11/22 09:00:05' },
  ],
  business: {
    docType: 2,
    reason: 'Sửa nơi nhận',
    documentId: 'H29.001,2026/11/20,7800/UBND-VP',
    paper: '1',
    documentInfo: {
      metadataChanged: true,
      receiversChanged: true,
      receivers: [
        { organId: 'D41.001', receiverType: 0 },
        { organId: 'M41.001', receiverType: 1 },
      ],
    },
    replacements: [{ documentId: 'H29.001,2026/11/19,7790/UBND-VP', organIds: ['H41.001', '000.00.00.G22'] }],
    staffInfo: { department: 'Văn phòng', staff: 'Trần Thị B', mobile: '0901234567', email: 'b@x.gov.vn' },
  },
  manifest: [
    {
      contentId: 'cid:1',
      contentType: 'application/pdf',
      description: 'Văn bản chính',
      attachmentName: 'cv.pdf',
    },
    { contentId: 'cid:2', contentType: 'application/zip', description: 'Phụ lục', attachmentName: 'pl.zip' },
  ],
  attachments: [
    {
      contentId: 'cid:1',
      attachmentName: 'cv.pdf',
      description: 'Văn bản chính',
      contentType: 'application/pdf',
      contentBase64: Buffer.from('%PDF-1.7 tệp').toString('base64'),
    },
    {
      contentId: 'cid:2',
      attachmentName: 'pl.zip',
      description: 'Phụ lục',
      contentType: 'application/zip',
      contentBase64: Buffer.from([0, 1, 2, 250, 251, 252]).toString('base64'),
    },
  ],
};

describe('edXML build and parse: round trip', () => {
  it('keeps every field of a fully populated document message', () => {
    const xml = buildEdxml(full);
    expect(parseEdxml(xml)).to.deep.equal(full);
    // building what was parsed gives the same bytes
    expect(buildEdxml(parseEdxml(xml))).to.equal(xml);
  });

  it('writes the QCVN 102 element names (Bussiness sic, TraceHeaderList, AttachmentEncoded)', () => {
    const xml = buildEdxml(full);
    for (const el of [
      'edXML:OrganizationInCharge',
      'edXML:PromulgationInfo',
      'edXML:SteeringType',
      'edXML:ToPlaces',
      'edXML:Appendixes',
      'edXML:TraceHeaderList',
      'edXML:Bussiness',
      'edXML:BussinessDocType',
      'edXML:BussinessDocumentInfo',
      'edXML:ReceiverList',
      'edXML:ReplacementInfoList',
      'edXML:edXMLManifest version="1.0"',
      'edXML:AttachmentEncoded',
      'edXML:ContentTransferEncoded',
    ])
      expect(xml).to.contain(`<${el}`);
  });

  const MINIMAL: EdocMessage = {
    kind: 'edoc',
    from: { organId: 'H29.001' },
    to: [{ organId: 'H41.001' }],
    documentId: 'H29.001,2026/11/22,1/VP',
    code: { codeNumber: '1', codeNotation: 'VP' },
    promulgationInfo: { promulgationDate: '2026/11/22' },
    subject: 'x',
    toPlaces: [],
    responseFor: [],
    otherInfo: { priority: 0, appendixes: [] },
    traceHeaders: [],
    manifest: [],
    attachments: [],
  };

  it('keeps a minimal document (optional parts absent stay absent)', () => {
    const min = MINIMAL;
    expect(parseEdxml(buildEdxml(min))).to.deep.equal(min);
    // one ToPlaces/Place and one Appendix are still lists; PromulgationInfo/Place is one value
    const one = {
      ...min,
      toPlaces: ['Như trên'],
      promulgationInfo: { place: 'Hà Nội', promulgationDate: '2026/11/22' },
      otherInfo: { priority: 0 as const, appendixes: ['PL'] },
    };
    expect(parseEdxml(buildEdxml(one))).to.deep.equal(one);
  });

  it('reads attachment content as raw base64 (folded lines joined), or leaves it out on request', () => {
    const min: EdocMessage = {
      ...MINIMAL,
      attachments: [
        { contentId: 'a1', attachmentName: 'a.pdf', contentType: 'application/pdf', contentBase64: 'QUJD' },
        { contentId: 'a2', attachmentName: 'b.pdf', contentType: 'application/pdf', contentBase64: 'REVG' },
      ],
    };
    // Base64 folded over lines, as some systems send it: the parser must not stop at the newline.
    const folded = buildEdxml(min).replace('>QUJD<', '>\n  QU\n  JD\n<');
    expect(folded).to.contain('QU\n  JD');
    expect(parseEdxml(folded)).to.deep.equal(min);
    const bare = parseEdxml(folded, { attachmentContent: false });
    expect(
      bare.kind === 'edoc' && bare.attachments.map((a) => [a.attachmentName, a.contentBase64]),
    ).to.deep.equal([
      ['a.pdf', ''],
      ['b.pdf', ''],
    ]);
  });

  it('keeps every field of a status message', () => {
    const st: StatusMessage = {
      kind: 'status',
      from: organ('H41.001', 2),
      responseFor: {
        organId: 'H29.001',
        code: '7816/UBND-VP',
        promulgationDate: '2026/11/22',
        documentId: 'H29.001,2026/11/22,7816/UBND-VP',
      },
      staffInfo: { department: 'Văn thư', staff: 'Lê C', mobile: '0912', email: 'c@x.gov.vn' },
      statusCode: '04',
      description: 'Phân công: phòng Nội vụ <xử lý> & báo cáo',
      timestamp: '2026/11/22 10:15:00',
    };
    const xml = buildEdxml(st);
    expect(xml).to.not.contain('edXMLBody');
    expect(parseEdxml(xml)).to.deep.equal(st);
  });
});

describe('SDK message builders', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sdk-msg-'));

  it('builds a new document with DocumentId, Vietnam dates, trace header and manifest from files and buffers', () => {
    const f = path.join(dir, 'ke-hoach.pdf');
    writeFileSync(f, Buffer.from('pdf bytes'));
    const at = new Date('2026-11-22T18:30:00Z'); // already 23 Nov in Vietnam
    const m = newDocument({
      from: 'H29.001',
      to: ['H41.001', { organId: 'D41.001', organName: 'Đảng ủy' }],
      number: '15',
      notation: 'KH-UBND',
      subject: 'Kế hoạch',
      date: at,
      dueDate: new Date('2026-11-30T03:00:00Z'),
      priority: 3,
      attachments: [
        attachmentFromFile(f, { description: 'Kế hoạch' }),
        attachmentFromBuffer('bang.xlsx', Buffer.from([1, 2, 3])),
        attachmentFromBuffer('other.bin', Buffer.from([9])),
      ],
    });
    expect(m.documentId).to.equal('H29.001,2026/11/23,15/KH-UBND');
    expect(m.promulgationInfo.promulgationDate).to.equal('2026/11/23');
    expect(m.traceHeaders).to.deep.equal([{ organId: 'H29.001', timestamp: '2026/11/23 01:30:00' }]);
    expect(m.dueDate).to.equal('2026/11/30');
    expect(m.otherInfo.priority).to.equal(3);
    expect(m.to[1]).to.deep.equal({ organId: 'D41.001', organName: 'Đảng ủy' });
    expect(m.manifest.map((r) => [r.contentId, r.attachmentName, r.contentType])).to.deep.equal([
      ['cid:1', 'ke-hoach.pdf', 'application/pdf'],
      ['cid:2', 'bang.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      ['cid:3', 'other.bin', 'application/octet-stream'],
    ]);
    expect(Buffer.from(m.attachments[0]!.contentBase64, 'base64').toString()).to.equal('pdf bytes');
    expect(parseEdxml(buildEdxml(m))).to.deep.equal(m);
  });

  it('builds statuses answering a document (13 names the recipient)', () => {
    const doc = newDocument({ from: 'H29.001', to: ['H41.001'], notation: 'VP', number: '2', subject: 's' });
    const s = statusFor({ from: 'H41.001', original: doc, code: '03', description: 'Đã vào sổ' });
    expect(s.responseFor).to.deep.equal({
      organId: 'H29.001',
      code: '2/VP',
      promulgationDate: doc.promulgationInfo.promulgationDate,
      documentId: doc.documentId,
    });
    expect(parseEdxml(buildEdxml(s))).to.deep.equal(s);
    const recall = statusFor({ from: 'H29.001', original: doc, code: '13', recipient: 'H41.001' });
    expect(recall.responseFor.organId).to.equal('H41.001');
    expect(() => statusFor({ from: 'H29.001', original: doc, code: '13' })).to.throw(/recipient/);
  });

  it('builds revoke, update and replace messages referencing the original', () => {
    const orig = {
      documentId: 'H29.001,2026/11/22,7/VP',
      recipients: ['H41.001', 'D41.001'],
      subject: 'Gốc',
    };
    const rv = revokeDocument(orig, { from: 'H29.001', reason: 'Ban hành nhầm' });
    expect(rv.to.map((t) => t.organId)).to.deep.equal(['H41.001', 'D41.001']);
    expect(rv.business).to.deep.include({ docType: 1, documentId: orig.documentId, reason: 'Ban hành nhầm' });
    const up = updateDocument(orig, {
      from: 'H29.001',
      subject: 'Gốc (sửa)',
      reason: 'Đổi nơi nhận',
      removeRecipients: ['D41.001'],
      addRecipients: ['M41.001'],
    });
    expect(up.to.map((t) => t.organId)).to.deep.equal(['H41.001', 'M41.001']);
    expect(up.business!.documentInfo).to.deep.equal({
      metadataChanged: true,
      receiversChanged: true,
      receivers: [
        { organId: 'D41.001', receiverType: 0 },
        { organId: 'M41.001', receiverType: 1 },
      ],
    });
    const rp = replaceDocument(orig, { from: 'H29.001', subject: 'Thay thế', reason: 'Sai số liệu' });
    expect(rp.business).to.deep.include({ docType: 3, documentId: orig.documentId });
    expect(rp.business!.replacements).to.deep.equal([
      { documentId: orig.documentId, organIds: orig.recipients },
    ]);
    for (const m of [rv, up, rp]) expect(parseEdxml(buildEdxml(m))).to.deep.equal(m);
  });

  it('formats Vietnam dates and derives the hub’s docId', () => {
    expect(vnDate(new Date('2026-01-01T17:00:00Z'))).to.equal('2026/01/02');
    expect(vnTimestamp(new Date('2026-01-01T17:00:09Z'))).to.equal('2026/01/02 00:00:09');
    expect(docIdOf('H29.001', 'H29.001,2026/11/22,7/VP')).to.equal(
      docIdFor(edocKey('H29.001', 'H29.001,2026/11/22,7/VP')),
    );
  });
});
