/** Strict escaping of the server-rendered pages (src/web/html.ts) and the UI texts (src/web/i18n.ts). */
import { expect } from 'chai';
import { escapeHtml, href, html, join, raw, safeUrl } from '../../../src/web/html.ts';
import { MESSAGE_KEYS, MESSAGES, translator } from '../../../src/web/i18n.ts';

// The tag under another name: Prettier reformats templates tagged `html`, and these must stay byte-exact.
const h = html;

describe('HTML escaping', () => {
  it('escapes the characters that end elements and attributes', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y' \`z\``)).to.equal(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;',
    );
  });

  it('escapes every interpolated value of the html tag, in text and in attributes', () => {
    const evil = '"><img src=x onerror=alert(1)>';
    const out = String(h`<a title="${evil}">${evil}</a>`);
    expect(out).to.equal(
      '<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</a>',
    );
    expect(out).not.to.contain('<img');
  });

  it('keeps nested html and raw markup, escapes arrays item by item, and drops null/undefined/false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(String(html`<p>${inner}</p>`)).to.equal('<p><b>&lt;i&gt;</b></p>');
    expect(String(h`<ul>${['<a>', h`<li>ok</li>`]}</ul>`)).to.equal('<ul>&lt;a&gt;<li>ok</li></ul>');
    expect(String(html`${null}${undefined}${false}${0}`)).to.equal('0');
    expect(String(raw('<br>'))).to.equal('<br>');
    expect(String(join(['<a>', '<b>'], h`<hr>`))).to.equal('&lt;a&gt;<hr>&lt;b&gt;');
  });

  it('escapes Vietnamese text only where needed (diacritics pass through)', () => {
    expect(String(html`<td>${'Ủy ban MTTQ Việt Nam & Đảng ủy'}</td>`)).to.equal(
      '<td>Ủy ban MTTQ Việt Nam &amp; Đảng ủy</td>',
    );
  });

  it('lets only site paths and http(s) URLs into links', () => {
    expect(safeUrl('/ui/documents/1')).to.equal('/ui/documents/1');
    expect(safeUrl('https://dms.example.vn/x')).to.equal('https://dms.example.vn/x');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,x',
      '//evil.example',
      '/\\evil.example',
      'vbscript:x',
    ])
      expect(safeUrl(bad), bad).to.equal('#');
    expect(href('/ui/received', { subject: 'a&b "c"', page: 2, empty: '', no: undefined })).to.equal(
      '/ui/received?subject=a%26b%20%22c%22&page=2',
    );
    expect(String(h`<a href="${href('/ui/x', { q: '"><script>' })}">`)).to.equal(
      '<a href="/ui/x?q=%22%3E%3Cscript%3E">',
    );
  });
});

describe('UI texts (vi, en)', () => {
  it('has every text in both languages with the same placeholders', () => {
    for (const k of MESSAGE_KEYS) {
      const [vi, en] = MESSAGES[k];
      expect(vi.trim(), k).not.to.equal('');
      expect(en.trim(), k).not.to.equal('');
      const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(ph(vi), k).to.deep.equal(ph(en));
    }
  });

  it('fills placeholders', () => {
    expect(translator('vi')('list.count', { n: 3 })).to.equal('3 văn bản');
    expect(translator('en')('pager.page', { page: 2, pages: 5 })).to.equal('Page 2 of 5');
  });
});
