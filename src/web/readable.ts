/**
 * Readable names for technical values shown on the document and operations pages: attachment
 * types (MIME type or file extension), texts the hub itself writes into timelines and refusals
 * (English, machine-made) and audit action ids. Pure: every text comes from i18n.ts.
 */
import { MESSAGES, type MsgKey, type Translator } from './i18n.ts';

const MIME: readonly (readonly [RegExp, MsgKey])[] = [
  [/^application\/pdf$/, 'mime.pdf'],
  [/^application\/(msword|vnd\.openxmlformats-officedocument\.wordprocessingml\.|vnd\.ms-word)/, 'mime.word'],
  [/^application\/(vnd\.ms-excel|vnd\.openxmlformats-officedocument\.spreadsheetml\.)/, 'mime.excel'],
  [
    /^application\/(vnd\.ms-powerpoint|vnd\.openxmlformats-officedocument\.presentationml\.)/,
    'mime.powerpoint',
  ],
  [/^application\/vnd\.oasis\.opendocument\.text/, 'mime.odt'],
  [/^application\/vnd\.oasis\.opendocument\.spreadsheet/, 'mime.ods'],
  [/^image\//, 'mime.image'],
  [
    /^application\/(zip|x-zip-compressed|x-7z-compressed|x-rar-compressed|vnd\.rar|gzip|x-tar)$/,
    'mime.archive',
  ],
  [/^(application|text)\/([\w.+-]+\+)?xml$/, 'mime.xml'],
  [/^application\/(pkcs7-signature|x-pkcs7-signature|pkcs7-mime)$/, 'mime.signature'],
  [/^text\/plain$/, 'mime.text'],
];

const EXT: Readonly<Record<string, MsgKey>> = {
  pdf: 'mime.pdf',
  doc: 'mime.word',
  docx: 'mime.word',
  xls: 'mime.excel',
  xlsx: 'mime.excel',
  ppt: 'mime.powerpoint',
  pptx: 'mime.powerpoint',
  odt: 'mime.odt',
  ods: 'mime.ods',
  jpg: 'mime.image',
  jpeg: 'mime.image',
  png: 'mime.image',
  tif: 'mime.image',
  tiff: 'mime.image',
  zip: 'mime.archive',
  rar: 'mime.archive',
  '7z': 'mime.archive',
  xml: 'mime.xml',
  p7s: 'mime.signature',
  txt: 'mime.text',
};

/**
 * The kind of an attachment, by its declared type; a generic type (octet-stream, none) is
 * recognised by the file name's extension.
 */
export function attachmentKind(contentType: string | undefined, name: string | undefined): MsgKey {
  const type = (contentType ?? '').toLowerCase().split(';')[0]!.trim();
  const byType = MIME.find(([rx]) => rx.test(type))?.[1];
  if (byType) return byType;
  const ext = /\.([a-z0-9]{1,5})$/i.exec(name ?? '')?.[1]?.toLowerCase();
  return (ext && EXT[ext]) || 'mime.binary';
}

/**
 * A text the hub wrote in English (a timeline description of its own, a status transition it
 * refused), in the page's language; other text (an agency's own words) is returned as it is.
 */
export function hubText(text: string, t: Translator): string {
  let m = /^(revoke|update|replace)(?:: (.*))?$/s.exec(text);
  if (m) return `${t(`hub.${m[1] as 'revoke'}`)}${m[2] ? `: ${m[2]}` : ''}`;
  m = /^endpoint refused the document: HTTP (\d{3})$/.exec(text);
  if (m) return t('hub.endpointRefused', { status: m[1]! });
  // Push failures (src/delivery/push.ts), with the attempts the worker adds when it gives up.
  m = /^push to (\S+) (?:answered HTTP (\d{3})|failed: (.*?))(?: \(after (\d+) attempts\))?$/s.exec(text);
  if (m) {
    const [, url, status, error, attempts] = m;
    const what = status
      ? t('hub.pushAnswered', { url: url!, status })
      : t('hub.pushFailed', { url: url!, error: error ?? '' });
    return attempts ? `${what} ${t('hub.afterAttempts', { n: attempts })}` : what;
  }
  // STATUS_TRANSITION_INVALID reasons (src/domain/status.ts), possibly after the error's own title.
  m = /(?:^|: )(\d\d) after (\S+(?: status)?): (.*)$/.exec(text);
  if (m) {
    const [, code, from, why] = m as unknown as [string, string, string, string];
    const fromText = from === 'no status' ? t('hub.noStatus') : from;
    if (why === 'the delivery has ended') return t('hub.ended');
    if (why === 'a recall is already pending') return t('hub.recallPending');
    if (/only answers a recall/.test(why)) return t('hub.answerOnly', { code });
    return t('hub.transition', { code, from: fromText });
  }
  return text;
}

/** An audit action id (`agency.registered`) as words; an unknown id is shown as it is. */
export function actionLabel(action: string, t: Translator): string {
  const key = `act.${action}`;
  return key in MESSAGES ? t(key as MsgKey) : action;
}

/** The page of an audit entry's subject (document, agency, user, import), or null. */
export function subjectHref(action: string, subject: string): string | null {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
  const seg = encodeURIComponent;
  if (/^(document|status|ui)\./.test(action) && uuid.test(subject)) return `/ui/documents/${seg(subject)}`;
  if (/^(deadletter|delivery)\./.test(action) && uuid.test(subject))
    return `/ui/documents/${seg(uuid.exec(subject)![0])}`;
  if (/^agency\.(imported|import\.)/.test(action)) return `/ui/admin/imports/${seg(subject)}`;
  if (action.startsWith('agency.')) return `/ui/admin/agencies/${seg(subject)}`;
  if (action.startsWith('certificate.')) return `/ui/admin/certificates?agency=${seg(subject)}`;
  if (action.startsWith('user.')) return `/ui/admin/users`;
  return null;
}
