/**
 * Federation peers for administrators and auditors (read-only; docs/federation.md): per configured
 * peer, the units it serves here, last contact, backlog, what was relayed and received, agency code
 * conflicts and the last error. Peers are configuration: nothing is edited here.
 */
import express, { type Router } from 'express';
import type { PeerView } from '../../federation/service.ts';
import { web } from '../context.ts';
import { fmtDateTime } from '../format.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { empty } from '../widgets.ts';

/** Units listed per peer before "and N more". */
const UNITS_SHOWN = 12;

export function adminPeersRouter(deps: { readonly federation: { list(): Promise<PeerView[]> } }): Router {
  const r = express.Router();
  r.get('/peers', async (req, res) => {
    const { t, lang } = web(req);
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
                  </tr>
                </thead>
                <tbody>
                  ${peers.map(
                    (p) =>
                      html`<tr
                        data-peer="${p.id}"
                        class="${p.conflicts.length || p.lastError ? 'overdue' : ''}"
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
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : empty(t('peer.none'))
      }`;
    res.send(renderPage(req, { title: t('nav.peers'), nav: 'peers', body }));
  });
  return r;
}
