/** Every /v1 route the hub mounts, by area: the input of the OpenAPI document and of the coverage test. */
import type { RouteSpec } from './route.ts';
import { ADMIN_ROUTES } from './admin.ts';
import { DIRECTORY_ROUTES } from './directory.ts';
import { DOCUMENT_ROUTES } from './documents.ts';
import { META_ROUTES } from './meta.ts';

export const V1_ROUTES: readonly RouteSpec[] = [
  ...META_ROUTES,
  ...DOCUMENT_ROUTES,
  ...DIRECTORY_ROUTES,
  ...ADMIN_ROUTES,
];
