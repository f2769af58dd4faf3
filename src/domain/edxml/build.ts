/** Builds edXML messages (unsigned) with the element order of QCVN 102 as the public samples show it. */
import {
  EDXML_NS,
  type EdocMessage,
  type EdxmlMessage,
  type Organ,
  type StaffInfo,
  type StatusMessage,
} from './model.ts';

type Node = string | null;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An element with text, or with children; omitted when the value is undefined. */
function el(name: string, value: string | number | undefined | Node[], attrs = ''): Node {
  if (value === undefined) return null;
  if (Array.isArray(value)) {
    const kids = value.filter((v): v is string => v !== null);
    return `<edXML:${name}${attrs}>${kids.join('')}</edXML:${name}>`;
  }
  return `<edXML:${name}${attrs}>${esc(String(value))}</edXML:${name}>`;
}

function organ(name: string, o: Organ): Node {
  return el(name, [
    el('OrganId', o.organId),
    el('OrganizationInCharge', o.organizationInCharge),
    el('OrganName', o.organName),
    el('OrganAdd', o.organAdd),
    el('Email', o.email),
    el('Telephone', o.telephone),
    el('Fax', o.fax),
    el('Website', o.website),
  ]);
}

function staff(s: StaffInfo | undefined): Node {
  if (!s) return null;
  return el('StaffInfo', [
    el('Department', s.department),
    el('Staff', s.staff),
    el('Mobile', s.mobile),
    el('Email', s.email),
  ]);
}

function documentHeader(m: EdocMessage): Node[] {
  const b = m.business;
  return [
    el('MessageHeader', [
      organ('From', m.from),
      ...m.to.map((t) => organ('To', t)),
      el('DocumentId', m.documentId),
      el('Code', [el('CodeNumber', m.code.codeNumber), el('CodeNotation', m.code.codeNotation)]),
      el('PromulgationInfo', [
        el('Place', m.promulgationInfo.place),
        el('PromulgationDate', m.promulgationInfo.promulgationDate),
      ]),
      m.documentType
        ? el('DocumentType', [
            el('Type', m.documentType.type),
            el('TypeDetail', m.documentType.typeDetail),
            el('TypeName', m.documentType.typeName),
          ])
        : null,
      el('Subject', m.subject),
      el('Content', m.content),
      m.signerInfo
        ? el('SignerInfo', [
            el('Competence', m.signerInfo.competence),
            el('Position', m.signerInfo.position),
            el('FullName', m.signerInfo.fullName),
          ])
        : null,
      el('DueDate', m.dueDate),
      el('OtherInfo', [
        el('Priority', m.otherInfo.priority),
        el('SphereOfPromulgation', m.otherInfo.sphereOfPromulgation),
        el('TyperNotation', m.otherInfo.typerNotation),
        el('PromulgationAmount', m.otherInfo.promulgationAmount),
        el('PageAmount', m.otherInfo.pageAmount),
        el('Direction', m.otherInfo.direction),
        el('SecurityLevel', m.otherInfo.securityLevel),
        m.otherInfo.appendixes.length
          ? el(
              'Appendixes',
              m.otherInfo.appendixes.map((a) => el('Appendix', a)),
            )
          : null,
      ]),
      el('SteeringType', m.steeringType),
      m.toPlaces.length
        ? el(
            'ToPlaces',
            m.toPlaces.map((p) => el('Place', p)),
          )
        : null,
      ...m.responseFor.map((r) =>
        el('ResponseFor', [
          el('OrganId', r.organId),
          el('Code', r.code),
          el('PromulgationDate', r.promulgationDate),
          el('DocumentId', r.documentId),
        ]),
      ),
    ]),
    el('TraceHeaderList', [
      ...m.traceHeaders.map((t) =>
        el('TraceHeader', [el('OrganId', t.organId), el('Timestamp', t.timestamp)]),
      ),
      b
        ? el('Bussiness', [
            el('DocumentId', b.documentId),
            el('BussinessDocType', b.docType),
            el('BussinessDocReason', b.reason),
            el('Paper', b.paper),
            b.documentInfo
              ? el('BussinessDocumentInfo', [
                  el('DocumentInfo', b.documentInfo.metadataChanged ? 1 : 0),
                  el('DocumentReceiver', b.documentInfo.receiversChanged ? 1 : 0),
                  el(
                    'ReceiverList',
                    b.documentInfo.receivers.map((r) =>
                      el('Receiver', [el('OrganId', r.organId), el('ReceiverType', r.receiverType)]),
                    ),
                  ),
                ])
              : null,
            b.replacements.length
              ? el(
                  'ReplacementInfoList',
                  b.replacements.map((r) =>
                    el('ReplacementInfo', [
                      el('DocumentId', r.documentId),
                      el(
                        'OrganIdList',
                        r.organIds.map((o) => el('OrganId', o)),
                      ),
                    ]),
                  ),
                )
              : null,
            staff(b.staffInfo),
          ])
        : null,
    ]),
  ];
}

function statusHeader(m: StatusMessage): Node[] {
  return [
    el('MessageHeader', [
      organ('From', m.from),
      el('ResponseFor', [
        el('OrganId', m.responseFor.organId),
        el('Code', m.responseFor.code),
        el('PromulgationDate', m.responseFor.promulgationDate),
        el('DocumentId', m.responseFor.documentId),
      ]),
      staff(m.staffInfo),
      el('StatusCode', m.statusCode),
      el('Description', m.description),
      el('Timestamp', m.timestamp),
    ]),
  ];
}

export function buildEdxml(m: EdxmlMessage): string {
  const header = el('edXMLHeader', m.kind === 'edoc' ? documentHeader(m) : statusHeader(m));
  const body =
    m.kind === 'edoc'
      ? el('edXMLBody', [
          el(
            'edXMLManifest',
            m.manifest.map((r) =>
              el('Reference', [
                el('ContentId', r.contentId),
                el('ContentType', r.contentType),
                el('Description', r.description),
                el('AttachmentName', r.attachmentName),
              ]),
            ),
            ' version="1.0"',
          ),
        ])
      : null;
  const envelope = `<edXML:edXMLEnvelope xmlns:edXML="${EDXML_NS}">${header}${body ?? ''}</edXML:edXMLEnvelope>`;
  const attachments =
    m.kind === 'edoc' && m.attachments.length
      ? `<edXML:AttachmentEncoded xmlns:edXML="${EDXML_NS}">${m.attachments
          .map((a) =>
            el('Attachment', [
              el('ContentId', a.contentId),
              el('AttachmentName', a.attachmentName),
              el('Description', a.description),
              el('ContentType', a.contentType),
              el('ContentTransferEncoded', a.contentBase64),
            ]),
          )
          .join('')}</edXML:AttachmentEncoded>`
      : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="${EDXML_NS}">${envelope}${attachments}</edXML>`;
}
