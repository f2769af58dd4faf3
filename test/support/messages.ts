/** Builders of test messages from the domain model: documents and status messages between dev agencies. */
import { randomBytes } from 'node:crypto';
import { buildEdxml, type EdocMessage, type StatusMessage } from '../../src/domain/edxml/index.ts';
import { signEdxml, type SigningKey } from '../../src/crypto/signature.ts';

let counter = 0;

export function documentMessage(from: string, to: string[], extra: Partial<EdocMessage> = {}): EdocMessage {
  const n = `${++counter}${randomBytes(2).toString('hex')}`;
  return {
    kind: 'edoc',
    from: { organId: from, organName: `Cơ quan ${from}` },
    to: to.map((organId) => ({ organId, organName: `Cơ quan ${organId}` })),
    documentId: `${from},2026/11/22,${n}/UBND-VP`,
    code: { codeNumber: n, codeNotation: 'UBND-VP' },
    promulgationInfo: { place: 'Thành phố Hồ Chí Minh', promulgationDate: '2026/11/22' },
    documentType: { type: '1', typeDetail: '0', typeName: 'Công văn' },
    subject: 'V/v triển khai chính quyền địa phương hai cấp',
    content: 'Nội dung công văn',
    signerInfo: { competence: 'TM. UBND', position: 'Chủ tịch', fullName: 'Nguyễn Văn A' },
    toPlaces: [],
    responseFor: [],
    otherInfo: { priority: 0, appendixes: [] },
    traceHeaders: [{ organId: from, timestamp: '2026/11/22 09:00:00' }],
    business: { docType: 0, replacements: [] },
    manifest: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'congvan.pdf' }],
    attachments: [
      {
        contentId: 'cid:1',
        attachmentName: 'congvan.pdf',
        contentType: 'application/pdf',
        contentBase64: randomBytes(2048).toString('base64'),
      },
    ],
    ...extra,
  };
}

export function statusMessage(
  from: string,
  original: EdocMessage,
  statusCode: StatusMessage['statusCode'],
  responseOrganId = original.from.organId,
): StatusMessage {
  return {
    kind: 'status',
    from: { organId: from, organName: `Cơ quan ${from}` },
    responseFor: {
      organId: responseOrganId,
      code: `${original.code.codeNumber}/${original.code.codeNotation}`,
      promulgationDate: original.promulgationInfo.promulgationDate,
      documentId: original.documentId,
    },
    statusCode,
    description: `Trạng thái ${statusCode}`,
    timestamp: '2026/11/22 10:00:00',
  };
}

export function signed(msg: EdocMessage | StatusMessage, key: SigningKey): string {
  return signEdxml(buildEdxml(msg), key);
}
