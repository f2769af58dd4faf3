/**
 * Which document a message is about (issue 18 §2; docs/security.md, "Document identity"). A
 * document is identified by its sender and its DocumentId, or by the hub's own id: never by the
 * DocumentId alone. DocumentIds are predictable (`{sender},{yyyy/MM/dd},{number}/{notation}`), so a
 * lookup by DocumentId alone lets one agency's document stand in for another's: a squatted id made
 * the real sender's revoke fail with NOT_ORIGINAL_SENDER, and pulled a third agency's statuses into
 * the squatter's evidence. Every "find the original" of the hub goes through this class.
 */
import { HubError } from '../domain/errors.ts';
import { documentIdSender } from '../domain/ids.ts';
import type { AgencyStore, DocumentStore } from '../domain/ports.ts';
import { statusDirection, type BusinessCode } from '../domain/status.ts';
import type { Agency, DocumentRecord } from '../domain/types.ts';

export interface OriginalsDeps {
  readonly documents: Pick<DocumentStore, 'findBySenderAndDocumentId' | 'get'>;
  readonly agencies: Pick<AgencyStore, 'findByCode'>;
}

export class Originals {
  readonly #documents: OriginalsDeps['documents'];
  readonly #agencies: OriginalsDeps['agencies'];

  constructor(deps: OriginalsDeps) {
    this.#documents = deps.documents;
    this.#agencies = deps.agencies;
  }

  /**
   * The canonical code of the agency the directory knows as `code` (a legacy 13-character alias
   * maps to its agency: `000.00.00.G22` → `G22`); `code` itself when the directory does not know it.
   * Documents are recorded under their sender's canonical code.
   */
  async canonical(code: string): Promise<string> {
    return (await this.#agencies.findByCode(code))?.code ?? code;
  }

  /** Whether `code` names `agency` in the directory, compared exactly: its code, legacy code or another alias. */
  async names(agency: Agency, code: string): Promise<boolean> {
    if (code === agency.code || code === agency.legacyCode) return true;
    return (await this.#agencies.findByCode(code))?.code === agency.code;
  }

  /**
   * Whether `documentId` may be `sender`'s: its embedded sender code names the sender, or it has no
   * embedded code at all (no comma: not the QCVN 102 format; it names no one, and every lookup is by
   * sender anyway).
   */
  async mayBelongTo(sender: Agency, documentId: string): Promise<boolean> {
    const embedded = documentIdSender(documentId);
    return embedded === null || (await this.names(sender, embedded));
  }

  /** Refuses, before anything is stored, a document whose DocumentId carries another agency's code. */
  async checkDocumentId(sender: Agency, documentId: string): Promise<void> {
    if (await this.mayBelongTo(sender, documentId)) return;
    throw new HubError(
      'DOCUMENT_ID_SENDER_MISMATCH',
      `DocumentId ${documentId} starts with ${documentIdSender(documentId)}, not with the sender ${sender.code}`,
      { documentId, sender: sender.code },
    );
  }

  /** The accepted document `senderCode` (any form the directory knows) sent under `documentId`. */
  async document(senderCode: string, documentId: string): Promise<DocumentRecord | null> {
    return this.#documents.findBySenderAndDocumentId(await this.canonical(senderCode), documentId);
  }

  /**
   * Who sent the document a status is about, and which recipient's delivery it concerns (docs/domain.md
   * §3): 13 comes from the original sender and `ResponseFor/OrganId` names the recipient; every other
   * code comes from the recipient and `ResponseFor/OrganId` names the original sender.
   */
  async statusParties(
    reporter: string,
    statusCode: BusinessCode,
    responseForOrganId: string,
  ): Promise<{ readonly originalSender: string; readonly recipient: string }> {
    const other = await this.canonical(responseForOrganId);
    return statusDirection(statusCode) === 'from-sender'
      ? { originalSender: reporter, recipient: other }
      : { originalSender: other, recipient: reporter };
  }

  /** The original a stored status or revoke/update/replace refers to; null for a new document. */
  async of(doc: DocumentRecord): Promise<DocumentRecord | null> {
    const m = doc.meta;
    if (doc.messageType === 'edoc')
      return m.refDocumentId && (m.businessType ?? 0) > 0
        ? this.#documents.findBySenderAndDocumentId(doc.senderCode, m.refDocumentId)
        : null;
    if (!m.responseForDocumentId || !m.statusCode || !m.responseForOrganId) return null;
    const { originalSender } = await this.statusParties(doc.senderCode, m.statusCode, m.responseForOrganId);
    return this.document(originalSender, m.responseForDocumentId);
  }
}
