/** The relay dashboard (administrators, auditors): volumes, latency, refusals, dead letters, overdue. */
import express, { type Router } from 'express';
import { ERROR_CODES } from '../../domain/errors.ts';
import { barChart, hbars } from '../chart.ts';
import { web } from '../context.ts';
import { fmtDuration, fmtNumber } from '../format.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import type { WebQueries } from '../queries.ts';
import { empty } from '../widgets.ts';
import { dayText, rangeInputs, readRange } from '../day-range.ts';
import { hubText } from '../readable.ts';

/** The longest period the dashboard shows at once (one bar per day). */
const MAX_DAYS = 366;

export function dashboardRouter(queries: WebQueries): Router {
  const r = express.Router();
  r.get('/dashboard', async (req, res) => {
    const { t, lang } = web(req);
    const { range: r30, error: rangeErr, shown } = readRange(req, { defaultDays: 30, maxDays: MAX_DAYS });
    const range = r30!;
    const d = await queries.dashboard({ start: range.start, days: range.days });
    const total = d.days.reduce((s, x) => s + x.n, 0);
    const tickEvery = Math.max(5, Math.ceil(d.days.length / 8));
    const bars = d.days.map((x, i) => ({
      label: x.day,
      value: x.n,
      ...(i % tickEvery === tickEvery - 1 || i === d.days.length - 1
        ? { tick: x.day.slice(8, 10) + '/' + x.day.slice(5, 7) }
        : {}),
    }));
    const blockName = (b: string) => t(`block.${b}` as 'block.state');
    const tile = (id: string, label: string, value: string, extra = '', href?: string) =>
      html`<div class="tile${extra}" data-tile="${id}">
        <div class="tile-value">${href ? html`<a href="${href}">${value}</a>` : value}</div>
        <div class="tile-label">${label}</div>
      </div>`;
    const body = html`<h1>${t('nav.dashboard')}</h1>
      <form method="get" action="/ui/dashboard" class="filters" id="dash-range">
        <fieldset class="range">
          <legend>${t('dash.range')}</legend>
          ${rangeInputs(t, shown, rangeErr, { maxDays: MAX_DAYS })}
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary">${t('dash.apply')}</button>
          <a href="/ui/dashboard">${t('list.reset')}</a>
        </div>
      </form>
      <div class="tiles">
        ${tile('documents', t('dash.documentsRange'), fmtNumber(total, lang))}
        ${tile('overdue', t('dash.overdue'), fmtNumber(d.overdue, lang), d.overdue ? ' tile-bad' : '', '/ui/received?overdue=1')}
        ${tile('deadletters', t('dash.deadLetters'), fmtNumber(d.deadLetters, lang), d.deadLetters ? ' tile-bad' : '', '/ui/admin/deadletters')}
        ${tile('p50', t('dash.latencyP50'), fmtDuration(d.latency.p50))}
        ${tile('p90', t('dash.latencyP90'), fmtDuration(d.latency.p90))}
        ${tile('p99', t('dash.latencyP99'), fmtDuration(d.latency.p99))}
      </div>
      <section class="card">
        <h2>${t('dash.perDay')}</h2>
        ${barChart(bars, { title: t('dash.perDay') })}
        <p class="small muted">
          ${t('dash.latencyNote', { n: d.latency.samples, max: fmtDuration(d.latency.max) })}
        </p>
      </section>
      <div class="columns">
        <section class="card">
          <div id="hub-refusals">
            <h2>${t('dash.hubRefusals')}</h2>
            <p class="small muted">${t('dash.hubRefusalsHint')}</p>
            ${d.refusals.length ? hbars(d.refusals.map((x) => ({ label: html`<code>${x.code}</code> <span class="small">${x.code in ERROR_CODES ? ERROR_CODES[x.code as keyof typeof ERROR_CODES][lang] : ''}</span>`, value: x.n }))) : empty(t('dash.none'))}
          </div>
          <div id="recipient-refusals">
            <h2>${t('dash.recipientRefusals02')}</h2>
            <p class="small muted">${t('dash.recipientRefusalsHint')}</p>
            ${d.recipientRefusals.length ? hbars(d.recipientRefusals.slice(0, 10).map((x) => ({ label: hubText(x.reason, t), value: x.n }))) : empty(t('dash.none'))}
          </div>
        </section>
        <section class="card">
          <h2>${t('dash.byBlock')}</h2>
          ${
            d.byBlock.length
              ? html`<table class="list compact">
                  <thead>
                    <tr>
                      <th>${t('dash.block')}</th>
                      <th class="num">${t('dash.sent')}</th>
                      <th class="num">${t('dash.received')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${d.byBlock.map(
                      (b) =>
                        html`<tr data-block="${b.block}">
                          <td>${blockName(b.block)}</td>
                          <td class="num">${b.sent}</td>
                          <td class="num">${b.received}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
              : empty(t('dash.none'))
          }
          <h2>${t('dash.byProvince')}</h2>
          ${
            d.byProvince.length
              ? html`<table class="list compact">
                  <thead>
                    <tr>
                      <th>${t('dash.province')}</th>
                      <th class="num">${t('dash.sent')}</th>
                      <th class="num">${t('dash.received')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${d.byProvince.slice(0, 40).map(
                      (p) =>
                        html`<tr>
                          <td><code>${p.province}</code> ${p.name ?? ''}</td>
                          <td class="num">${p.sent}</td>
                          <td class="num">${p.received}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
              : empty(t('dash.none'))
          }
        </section>
      </div>
      <p class="small muted" id="range-shown">
        ${t('dash.rangeShown', { from: dayText(range.fromDay), to: dayText(range.toDay) })}
      </p>`;
    if (rangeErr) res.status(rangeErr.status);
    res.send(renderPage(req, { title: t('nav.dashboard'), nav: 'dashboard', body }));
  });
  return r;
}
