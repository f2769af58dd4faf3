/** Contract of the directory routes: the address book (any system) and its administration (admin). */
import { z } from 'zod';
import { agencyCode, calendarDate, calendarDay, instant, pathParam, queryFlag, queryInt } from './common.ts';
import { RoutingOutcome } from './documents.ts';
import { defineRoute } from './route.ts';

const block = z.enum(['party', 'state', 'front', 'other']);
const deliveryMode = z.enum(['pull', 'push', 'amqp']);

const Contact = z
  .object({
    email: z.string().optional(),
    phone: z.string().optional(),
    fax: z.string().optional(),
    address: z.string().optional(),
    website: z.string().optional(),
  })
  .meta({ id: 'Contact' });

const Delivery = z
  .object({
    mode: deliveryMode,
    url: z.string().optional().meta({ description: 'Push endpoint (https:// outside development)' }),
    cipherProtected: z.boolean().optional(),
  })
  .meta({ id: 'DeliverySettings' });

const agencyBase = {
  code: agencyCode,
  legacyCode: z.string().optional().meta({ description: 'The QCVN 102 13-character code' }),
  name: z.string(),
  shortName: z.string().optional(),
  block,
  kind: z.string(),
  parentCode: z.string().nullable(),
  province: z.string().optional(),
  status: z.enum(['active', 'closed']),
  validFrom: calendarDay.optional(),
  closedAt: calendarDay.optional(),
  successors: z.array(z.string()),
  predecessors: z.array(z.string()).optional(),
  contact: Contact,
  version: z.number().int().meta({ description: 'Directory change version of the last change' }),
  updatedAt: instant,
};

export const PublicAgency = z
  .object({
    ...agencyBase,
    delivery: z.object({ mode: deliveryMode }),
    certificates: z.array(z.object({ fingerprintSha256: z.string(), notAfter: instant.optional() })),
  })
  .meta({ id: 'Agency', description: 'The address-book view of a unit' });

export const AdminAgency = z
  .object({
    ...agencyBase,
    delivery: Delivery,
    certificates: z.array(
      z.object({
        fingerprintSha256: z.string(),
        subject: z.string().optional(),
        notAfter: instant.optional(),
        registeredAt: instant,
        revokedAt: instant.optional(),
      }),
    ),
  })
  .meta({ id: 'AdminAgency', description: 'The administrator’s view of a unit (no certificate bodies)' });

const Correction = z
  .object({
    mode: z.enum(['split', 'replace']),
    reason: z.string().default(''),
  })
  .meta({
    description: 'Explicit correction naming a closed unit as predecessor (audited, docs/directory.md §4)',
  });

const codes = z.array(z.string());
const codeParams = z.object({ code: pathParam('Agency code') });

export const searchAgencies = defineRoute({
  method: 'get',
  path: '/v1/agencies',
  operationId: 'searchAgencies',
  tag: 'directory',
  auth: 'hmac',
  summary: 'Search the address book (name without diacritics, code, block, province, status, parent)',
  query: z.object({
    q: z.string().optional().meta({ description: 'Words of the name (diacritics and case ignored)' }),
    code: z.string().optional(),
    block: z.string().optional(),
    province: z.string().optional(),
    status: z.string().optional(),
    parent: z.string().optional(),
    limit: queryInt.optional(),
    cursor: z.string().optional().meta({ description: 'Paging cursor: the `next` of the previous page' }),
  }),
  responses: {
    200: {
      description: 'A page of units',
      json: z.object({ items: z.array(PublicAgency), next: z.string().optional() }),
    },
  },
});

export const agencyChanges = defineRoute({
  method: 'get',
  path: '/v1/agencies/changes',
  operationId: 'agencyChanges',
  tag: 'directory',
  auth: 'hmac',
  summary: 'Units changed after a directory version (synchronisation feed)',
  query: z.object({
    since: queryInt.default(0).meta({ description: 'The `next` of the previous call (0: everything)' }),
    limit: queryInt.optional(),
  }),
  responses: {
    200: {
      description: 'Changed units, oldest change first',
      json: z.object({
        items: z.array(PublicAgency),
        next: z.number().int(),
        more: z.boolean(),
        watermark: z.number().int(),
      }),
    },
  },
});

export const getAgency = defineRoute({
  method: 'get',
  path: '/v1/agencies/{code}',
  operationId: 'getAgency',
  tag: 'directory',
  auth: 'hmac',
  summary: 'One unit, with where documents addressed to it go',
  params: codeParams,
  responses: {
    200: { description: 'The unit', json: PublicAgency.extend({ routing: RoutingOutcome }) },
  },
  errors: { 404: 'Unknown agency' },
});

export const agencyCertificates = defineRoute({
  method: 'get',
  path: '/v1/agencies/{code}/certificates',
  operationId: 'agencyCertificates',
  tag: 'directory',
  auth: 'hmac',
  summary: 'The certificates in force of an agency (PEM), to encrypt documents for it',
  params: codeParams,
  responses: {
    200: {
      description: 'Certificates in force',
      json: z.object({
        code: agencyCode,
        status: z.enum(['active', 'closed']),
        routing: RoutingOutcome,
        certificates: z.array(
          z.object({
            fingerprintSha256: z.string(),
            subject: z.string().optional(),
            notAfter: instant.optional(),
            pem: z.string(),
          }),
        ),
      }),
    },
  },
  errors: { 404: 'Unknown agency' },
});

export const registerAgency = defineRoute({
  method: 'post',
  path: '/v1/admin/agencies',
  operationId: 'registerAgency',
  tag: 'directory-admin',
  auth: 'admin',
  summary: 'Register a unit: assigns the next free code under the parent (docs/directory.md §3, §4)',
  body: {
    json: z.object({
      name: z.string().min(1),
      block,
      kind: z.string().min(1).meta({ description: 'e.g. commune-people-committee (^[a-z][a-z0-9-]{1,63}$)' }),
      parent: z.string().optional().meta({ description: 'Parent code (alias: parentCode)' }),
      parentCode: z.string().optional(),
      province: z.string().optional(),
      shortName: z.string().optional(),
      code: z.string().optional().meta({ description: 'An explicit code (else the next free one)' }),
      legacyCode: z.string().optional(),
      predecessors: codes.optional(),
      validFrom: calendarDate.optional(),
      contact: Contact.optional(),
      delivery: Delivery.optional(),
      distinctFrom: codes
        .optional()
        .meta({ description: 'Same-named active units under the parent this unit is not' }),
      predecessorCorrection: Correction.optional(),
    }),
    required: true,
  },
  responses: {
    201: {
      description: 'The unit with its code, and `closed`: the predecessors it closed',
      json: AdminAgency.extend({ closed: z.array(AdminAgency) }),
      headers: { Location: '/v1/agencies/{code}' },
    },
  },
  errors: {
    409: 'AGENCY_DUPLICATE_NAME (details.existing), PREDECESSOR_CLOSED (details.predecessors), CONFLICT',
    422: 'ENDPOINT_NOT_HTTPS: a push endpoint outside development must be https://',
  },
});

const ImportRow = z.record(z.string(), z.unknown());

export const importAgencies = defineRoute({
  method: 'post',
  path: '/v1/admin/agencies/import',
  operationId: 'importAgencies',
  tag: 'directory-admin',
  auth: 'admin',
  summary: 'Import units from CSV (all rows or none; docs/directory.md)',
  query: z.object({
    dryRun: queryFlag.optional().meta({ description: 'true: check and preview, change nothing' }),
    validFrom: calendarDate.optional(),
    format: z.enum(['csv', 'json']).optional().meta({ description: 'csv: the result as CSV' }),
  }),
  body: { raw: ['text/csv'], description: 'UTF-8 CSV with a header line' },
  responses: {
    201: {
      description: 'Imported',
      json: z
        .object({
          importId: z.string().nullable(),
          dryRun: z.boolean(),
          rows: z.number().int(),
          created: z.array(ImportRow),
          closed: z.array(z.object({ code: z.string(), successors: codes })),
          splits: z.array(z.object({ code: z.string(), successors: codes })),
          resultCsv: z.string(),
        })
        .loose(),
      media: ['text/csv'],
    },
    200: {
      description: 'Dry run: what would be imported (`preview`)',
      json: z.record(z.string(), z.unknown()),
    },
  },
  errors: { 400: 'VALIDATION_FAILED with details.errors: [{ line, reason, code?, existing? }]' },
});

export const recoverImports = defineRoute({
  method: 'post',
  path: '/v1/admin/agencies/imports/recover',
  operationId: 'recoverImports',
  tag: 'directory-admin',
  auth: 'admin',
  summary: 'Roll back imports interrupted half-way (after a crash)',
  responses: {
    200: { description: 'The imports rolled back', json: z.object({ rolledBack: z.array(z.unknown()) }) },
  },
});

export const exportAgencies = defineRoute({
  method: 'get',
  path: '/v1/admin/agencies/export',
  operationId: 'exportAgencies',
  tag: 'directory-admin',
  auth: 'admin',
  summary: 'Export the whole directory (streamed)',
  query: z.object({ format: z.enum(['csv', 'json']).default('json') }),
  responses: {
    200: {
      description: '{ exportedAt, items: AdminAgency[] }, or CSV (UTF-8 with BOM)',
      json: z.object({ exportedAt: instant, items: z.array(AdminAgency) }),
      media: ['text/csv'],
    },
  },
});

const PERMANENT = 'cannot be changed (codes, block and parent are permanent)';

export const updateAgency = defineRoute({
  method: 'patch',
  path: '/v1/admin/agencies/{code}',
  operationId: 'updateAgency',
  tag: 'directory-admin',
  auth: 'admin',
  summary: 'Change a unit’s name, short name, kind, contact or delivery (codes, block, parent are permanent)',
  params: codeParams,
  body: {
    json: z.strictObject(
      {
        name: z.string().min(1).optional(),
        shortName: z.string().nullable().optional().meta({ description: 'null removes it' }),
        kind: z.string().min(1).optional(),
        contact: Contact.optional(),
        delivery: Delivery.optional(),
      },
      {
        error: (iss) =>
          iss.code === 'unrecognized_keys' ? `${iss.keys.join(', ')} ${PERMANENT}` : undefined,
      },
    ),
  },
  responses: { 200: { description: 'The unit', json: AdminAgency } },
  errors: { 404: 'Unknown agency', 422: 'ENDPOINT_NOT_HTTPS' },
});

export const closeAgency = defineRoute({
  method: 'post',
  path: '/v1/admin/agencies/{code}/close',
  operationId: 'closeAgency',
  tag: 'directory-admin',
  auth: 'admin',
  summary: 'Close a unit (merged, split or dissolved), naming its successors',
  params: codeParams,
  body: {
    json: z.object({
      successors: codes.optional(),
      at: calendarDate.optional(),
      reason: z.string().optional(),
      correction: Correction.optional(),
    }),
  },
  responses: { 200: { description: 'The closed unit', json: AdminAgency } },
  errors: { 404: 'Unknown agency', 409: 'Already closed, PREDECESSOR_CLOSED' },
});

export const DIRECTORY_ROUTES = [
  searchAgencies,
  agencyChanges,
  getAgency,
  agencyCertificates,
  registerAgency,
  importAgencies,
  recoverImports,
  exportAgencies,
  updateAgency,
  closeAgency,
] as const;
