/** Charts as inline SVG rendered on the server (no script, no inline style: attributes only). */
import { html, type SafeHtml } from './html.ts';

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Shown under the bar when set (e.g. every 5th day). */
  readonly tick?: string;
}

/** A vertical bar chart with a title for assistive technology and one <title> per bar. */
export function barChart(
  bars: readonly Bar[],
  o: { title: string; width?: number; height?: number },
): SafeHtml {
  const width = o.width ?? 1000;
  const height = o.height ?? 220;
  const padLeft = 36;
  const padBottom = 24;
  const padTop = 10;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = bars.length ? (width - padLeft) / bars.length : 0;
  const barW = Math.max(2, step * 0.7);
  const plotH = height - padBottom - padTop;
  const y = (v: number) => padTop + plotH - (v / max) * plotH;
  const grid = [0, 0.5, 1].map((f) => {
    const v = Math.round(max * f);
    return html`<line
        x1="${padLeft}"
        x2="${width}"
        y1="${y(v).toFixed(1)}"
        y2="${y(v).toFixed(1)}"
        class="grid"
      ></line
      ><text x="${padLeft - 4}" y="${(y(v) + 4).toFixed(1)}" class="axis" text-anchor="end">${v}</text>`;
  });
  return html`<svg
    class="chart"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="${o.title}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title>${o.title}</title>
    ${grid}
    ${bars.map((b, i) => {
      const x = padLeft + i * step + (step - barW) / 2;
      const top = y(b.value);
      return html`<g
        ><rect
          x="${x.toFixed(1)}"
          y="${top.toFixed(1)}"
          width="${barW.toFixed(1)}"
          height="${(padTop + plotH - top).toFixed(1)}"
          class="bar"
          ><title>${b.label}: ${b.value}</title></rect
        >${
          b.tick
            ? html`<text x="${(x + barW / 2).toFixed(1)}" y="${height - 6}" class="axis" text-anchor="middle"
                >${b.tick}</text
              >`
            : ''
        }</g
      >`;
    })}
  </svg>`;
}

/** Horizontal bars for a short ranked list (refusals by reason, volumes). */
export function hbars(rows: readonly { label: SafeHtml | string; value: number }[]): SafeHtml {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return html`<table class="hbars">
    ${rows.map(
      (r) =>
        html`<tr>
          <th scope="row">${r.label}</th>
          <td class="num">${r.value}</td>
          <td class="barcell">
            <svg viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
              <rect x="0" y="0" height="8" width="${((r.value / max) * 100).toFixed(1)}" class="bar"></rect>
            </svg>
          </td>
        </tr>`,
    )}
  </table>`;
}
