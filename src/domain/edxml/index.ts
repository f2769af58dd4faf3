export * from './model.ts';
export { buildEdxml } from './build.ts';
export { parseEdxml, parseDocumentId, formatDocumentId, type DocumentIdParts } from './parse.ts';
