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
import type { AgencyStore } from '../domain/ports.ts';
import type { Agency } from '../domain/types.ts';

export interface OriginalsDeps {
  readonly agencies: Pick<AgencyStore, 'findByCode'>;
}

export class Originals {
  readonly #agencies: OriginalsDeps['agencies'];

  constructor(deps: OriginalsDeps) {
    this.#agencies = deps.agencies;
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
}
