/**
 * Federation peers for administrators and auditors (docs/federation.md): per peer, its source
 * (configuration, read-only here, or the store) and state, the units it serves here, last contact,
 * backlog, what was relayed and received, agency code conflicts and the last error. Administrators
 * disable and enable a stored peer here (CSRF-protected forms, audited; the access rule is
 * src/access/policy.ts `administers`); everything else is `hubctl peers` (secrets never go through
 * the browser).
 */
import express, { type Request, type Router } from 'express';
import { HubError, isHubError } from '../../domain/errors.ts';
import type { PeerView } from '../../federation/service.ts';
import { actorOf, canWrite, userOf, web } from '../context.ts';
import { fmtDateTime } from '../format.ts';
import { errorFlash } from '../forms.ts';
import { html, seg } from '../html.ts';
import { csrfField, renderPage, type Flash } from '../layout.ts';
import { empty } from '../widgets.ts';

/** What the peers page uses of federation: the views, and the switch of a stored peer. */
export interface PeersUi {
  list(): Promise<PeerView[]>;
  setEnabled?(actor: string, id: string, enabled: boolean): Promise<unknown>;
}

/** Units listed per peer before "and N more". */
const UNITS_SHOWN = 12;

export function adminPeersRouter(deps: { readonly federation: PeersUi }): Router {
  const r = express.Router();
  const page = async (req: Request, flash: Flash | null) => {
    const { t, lang } = web(req);
    const admin = canWrite(userOf(req)) && !!deps.federation.setEnabled;
    const peers = await deps.federation.list();
    const body = html`<h1>${t('nav.peers')}</h1>
      <p class="muted">${t('peer.intro')}</p>
      ${
        peers.length
          ? html`<div class="table-wrap">
              <table class="list" id="peers">
                <thead>
                  <tr>
                    <th>${t('peer.peer')}</th>
                    <th>${t('peer.units')}</th>
                    <th>${t('peer.lastContact')}</th>
                    <th class="num">${t('peer.backlog')}</th>
                    <th class="num">${t('peer.relayed')}</th>
                    <th class="num">${t('peer.received')}</th>
                    <th>${t('peer.conflicts')}</th>
                    <th>${t('doc.lastError')}</th>
                    <th>${t('peer.state')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${peers.map(
                    (p) =>
                      html`<tr
                        data-peer="${p.id}"
                        data-source="${p.source}"
                        data-enabled="${p.enabled ? 'yes' : 'no'}"
                        class="${!p.enabled ? 'closed' : p.conflicts.length || p.lastError ? 'overdue' : ''}"
                      >
                        <td>
                          <strong>${p.name}</strong> <code class="small">${p.id}</code><br /><code
                            class="small"
                            >${p.baseUrl}</code
                          >
                          <span class="muted small"
                            >(${p.outbound === 'hold' ? t('peer.hold') : t('peer.push')})</span
                          >
                        </td>
                        <td>
                          ${p.agencies.length}:
                          ${p.agencies.slice(0, UNITS_SHOWN).map((c) => html`<a href="/ui/admin/agencies/${c}"><code>${c}</code></a> `)}
                          ${
                            p.agencies.length > UNITS_SHOWN
                              ? t('peer.more', { n: p.agencies.length - UNITS_SHOWN })
                              : ''
                          }
                        </td>
                        <td>${p.lastContactAt ? fmtDateTime(p.lastContactAt, lang) : '—'}</td>
                        <td class="num">${p.backlog}</td>
                        <td class="num">${p.relayed}</td>
                        <td class="num">${p.received}</td>
                        <td class="small">
                          ${p.conflicts.map(
                            (c) =>
                              html`<div class="error-text">
                                <code>${c.code}</code>
                                ${t('peer.heldBy', { holder: c.heldBy === 'local' ? t('peer.local') : c.heldBy })}
                              </div>`,
                          )}
                        </td>
                        <td class="small error-text">
                          ${
                            p.lastError
                              ? html`${fmtDateTime(p.lastError.at, lang)} · ${p.lastError.op}:
                                ${p.lastError.message}`
                              : ''
                          }
                        </td>
                        <td class="nowrap">
                          ${
                            p.enabled
                              ? t('peer.enabled')
                              : html`<span class="badge badge-bad">${t('peer.disabled')}</span>`
                          }
                          <div class="muted small">
                            ${p.source === 'config' ? t('peer.fromConfig') : t('peer.fromStore')}
                          </div>
                          ${
                            admin && p.source === 'store'
                              ? html`<form
                                  method="post"
                                  action="/ui/admin/peers/${seg(p.id)}/${p.enabled ? 'disable' : 'enable'}"
                                  class="inline"
                                  ${p.enabled ? html` data-confirm="${t('peer.disableConfirm')}"` : ''}
                                >
                                  ${csrfField(req)}<button
                                    type="submit"
                                    class="small${p.enabled ? ' danger' : ''}"
                                  >
                                    ${t(p.enabled ? 'peer.disable' : 'peer.enable')}
                                  </button>
                                </form>`
                              : ''
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : empty(t('peer.none'))
      }`;
    return renderPage(req, { title: t('nav.peers'), nav: 'peers', flash, body });
  };

  r.get('/peers', async (req, res) => {
    res.send(await page(req, req.query.ok ? { kind: 'ok', text: web(req).t('form.saved') } : null));
  });

  // Administrators only (policy: administers); auditors read the page, clerks never reach it.
  for (const action of ['disable', 'enable'] as const)
    r.post(`/peers/:id/${action}`, async (req, res) => {
      if (!canWrite(userOf(req)) || !deps.federation.setEnabled)
        throw new HubError('FORBIDDEN', 'only administrators disable or enable peers');
      try {
        await deps.federation.setEnabled(actorOf(req), req.params.id, action === 'enable');
        res.redirect(303, '/ui/admin/peers?ok=1');
      } catch (err) {
        res.status(isHubError(err) ? err.status : 500).send(await page(req, errorFlash(req, err)));
      }
    });
  return r;
}
