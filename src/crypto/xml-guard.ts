/**
 * Bounds on untrusted XML, checked on the raw bytes before any parser runs: size, nothing before
 * the first '<' but a UTF-8 BOM, no DOCTYPE or entity declarations (XXE, billion laughs), and caps
 * on element depth and count. Then a strict DOM parse where any parser warning is a refusal.
 */
import { DOMParser } from '@xmldom/xmldom';
import { HubError } from '../domain/errors.ts';

export interface XmlLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxBytes: 25 * 1024 * 1024,
  maxDepth: 64,
  maxElements: 20_000,
};

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QMARK = 0x3f;

function indexOfSeq(b: Uint8Array, seq: number[], from: number): number {
  outer: for (let i = from; i <= b.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (b[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

const bytes = (s: string) => [...Buffer.from(s, 'latin1')];
const END_COMMENT = bytes('-->');
const END_CDATA = bytes(']]>');
const END_PI = bytes('?>');

/**
 * edXML travels as UTF-8 (the hub hashes, signs and stores the exact bytes). A UTF-16 message — a
 * UTF-16/UTF-32 BOM, ASCII interleaved with NULs, or an XML declaration naming another encoding — is
 * named as such (issue 18 §6) rather than failing later as a depth/count or well-formedness error.
 */
function rejectNonUtf8Encoding(b: Uint8Array): void {
  const fail = (what: string) => {
    throw new HubError('XML_ENCODING_UNSUPPORTED', what);
  };
  if ((b[0] === 0xfe && b[1] === 0xff) || (b[0] === 0xff && b[1] === 0xfe)) fail('UTF-16 byte order mark');
  if (b[0] === 0 || b[1] === 0) fail('NUL bytes at the start (UTF-16 or UTF-32 without a byte order mark)');
  const start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  const head = Buffer.from(b.subarray(start, start + 200)).toString('latin1');
  const decl = /^<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']/.exec(head);
  if (decl && decl[1]!.toLowerCase() !== 'utf-8') fail(`the XML declaration names encoding "${decl[1]}"`);
}

export function guardXml(b: Uint8Array, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  if (b.length > limits.maxBytes)
    throw new HubError('PAYLOAD_TOO_LARGE', `${b.length} bytes, limit ${limits.maxBytes}`);
  rejectNonUtf8Encoding(b);
  let start = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) start = 3;
  if (b[start] !== LT) {
    const end = Math.max(start, b.indexOf(LT) === -1 ? Math.min(b.length, start + 16) : b.indexOf(LT));
    const stray = Buffer.from(b.subarray(start, Math.min(end, start + 16))).toString('latin1');
    throw new HubError('XML_PROLOG_INVALID', `found ${JSON.stringify(stray)} before the XML declaration`);
  }
  let depth = 0;
  let elements = 0;
  let i = start;
  const n = b.length;
  while (i < n) {
    if (b[i] !== LT) {
      i++;
      continue;
    }
    const c = b[i + 1];
    if (c === BANG) {
      // <!-- comment -->, <![CDATA[ ]]>, or a declaration (DOCTYPE/ENTITY/…: refused)
      if (b[i + 2] === 0x2d && b[i + 3] === 0x2d) {
        const e = indexOfSeq(b, END_COMMENT, i + 4);
        if (e < 0) throw new HubError('XML_MALFORMED', 'unterminated comment');
        i = e + 3;
        continue;
      }
      if (Buffer.from(b.subarray(i + 2, i + 9)).toString('latin1') === '[CDATA[') {
        const e = indexOfSeq(b, END_CDATA, i + 9);
        if (e < 0) throw new HubError('XML_MALFORMED', 'unterminated CDATA section');
        i = e + 3;
        continue;
      }
      const word = Buffer.from(b.subarray(i + 2, i + 9))
        .toString('latin1')
        .toUpperCase();
      throw new HubError('XML_DOCTYPE_FORBIDDEN', `found <!${word.replace(/[^A-Z].*$/, '')} declaration`);
    }
    if (c === QMARK) {
      const e = indexOfSeq(b, END_PI, i + 2);
      if (e < 0) throw new HubError('XML_MALFORMED', 'unterminated processing instruction');
      i = e + 2;
      continue;
    }
    if (c === SLASH) {
      depth--;
      const e = b.indexOf(GT, i);
      if (e < 0) throw new HubError('XML_MALFORMED', 'unterminated end tag');
      i = e + 1;
      continue;
    }
    // A start tag: skip to its '>' outside quoted attribute values.
    let j = i + 1;
    let quote = 0;
    for (; j < n; j++) {
      const ch = b[j]!;
      if (quote) {
        if (ch === quote) quote = 0;
      } else if (ch === 0x22 || ch === 0x27) quote = ch;
      else if (ch === GT) break;
    }
    if (j >= n) throw new HubError('XML_MALFORMED', 'unterminated start tag');
    elements++;
    if (elements > limits.maxElements)
      throw new HubError('XML_LIMITS_EXCEEDED', `more than ${limits.maxElements} elements`);
    if (b[j - 1] !== SLASH) {
      depth++;
      if (depth > limits.maxDepth)
        throw new HubError('XML_LIMITS_EXCEEDED', `element depth over ${limits.maxDepth}`);
    }
    i = j + 1;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new HubError('XML_MALFORMED', 'the message is not valid UTF-8');
  }
}

/** A DOM parse in which every parser warning or error is a refusal. */
export function parseXmlStrict(xml: string): Document {
  const fail = (level: string) => (msg: string) => {
    throw new HubError('XML_MALFORMED', `${level}: ${String(msg).replace(/\s+/g, ' ').trim()}`);
  };
  const doc = new DOMParser({
    locator: {},
    errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatal') },
  }).parseFromString(xml, 'text/xml');
  if (!doc?.documentElement) throw new HubError('XML_MALFORMED', 'no root element');
  return doc;
}
