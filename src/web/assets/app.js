// Progressive enhancement of the web UI (served as a file: the CSP forbids inline scripts).
// Everything works without it; with it: the menu's state (aria-expanded, Escape), confirmation
// prompts, reading a chosen file into a textarea, live progress of bulk imports, search-as-you-type
// for parent and province codes, and a live preview of the code a registration would get.
(function () {
  'use strict';

  // The header's menu (a <details>, a button on narrow screens): its state for assistive
  // technologies, and Escape closes it, back on its button.
  document.querySelectorAll('details.menu').forEach(function (menu) {
    var button = menu.querySelector('summary');
    if (!button) return;
    var sync = function () {
      button.setAttribute('aria-expanded', menu.open ? 'true' : 'false');
    };
    sync();
    menu.addEventListener('toggle', sync);
    menu.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && menu.open) {
        menu.open = false;
        button.focus();
      }
    });
  });

  // Forms with data-confirm ask before submitting.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
    }
  });

  // <input type=file data-fill="name">: the chosen file's text goes into the textarea named `name`.
  document.querySelectorAll('input[type=file][data-fill]').forEach(function (input) {
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      var target = input.form && input.form.elements.namedItem(input.dataset.fill);
      if (!file || !(target instanceof HTMLTextAreaElement)) return;
      file.text().then(function (text) {
        target.value = text;
      });
    });
  });

  var getJson = function (url) {
    return fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(
      function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      },
    );
  };

  // <input data-lookup="parent|province" list="…">: suggestions (code — name) from the directory as
  // one types a code or a name (without diacritics); the field keeps accepting a plain code.
  document.querySelectorAll('input[data-lookup]').forEach(function (input) {
    var list = input.list;
    if (!list) return;
    var timer = 0;
    var asked = '';
    input.addEventListener('input', function () {
      var q = input.value.trim();
      window.clearTimeout(timer);
      if (q.length < 2 || q === asked) return;
      timer = window.setTimeout(function () {
        asked = q;
        getJson(
          '/ui/admin/agencies/lookup?scope=' +
            encodeURIComponent(input.dataset.lookup) +
            '&q=' +
            encodeURIComponent(q),
        )
          .then(function (res) {
            if (input.value.trim() !== q) return;
            var options = res.items.map(function (a) {
              var o = document.createElement('option');
              o.value = a.code;
              o.label = a.name;
              o.textContent = a.code + ' — ' + a.name;
              return o;
            });
            list.replaceChildren.apply(list, options);
          })
          .catch(function () {
            asked = '';
          });
      }, 200);
    });
  });

  // The register form: the code the unit would get, whenever its parent, province or block changes
  // (read only on the server: nothing is reserved until the form is sent).
  var register = document.getElementById('register-form');
  var nextCode = document.getElementById('next-code');
  if (register instanceof HTMLFormElement && nextCode) {
    var none = nextCode.dataset.none || '';
    var previewTimer = 0;
    var preview = function () {
      var f = register.elements;
      var parent = f.namedItem('parent').value.trim();
      var province = f.namedItem('province').value.trim();
      if (!parent && !province) {
        nextCode.textContent = none;
        return;
      }
      var url =
        '/ui/admin/agencies/next-code?block=' +
        encodeURIComponent(f.namedItem('block').value) +
        '&parent=' +
        encodeURIComponent(parent) +
        '&province=' +
        encodeURIComponent(province);
      getJson(url)
        .then(function (res) {
          if (res.code) {
            var c = document.createElement('code');
            c.textContent = res.code;
            nextCode.replaceChildren(c);
          } else {
            var errs = res.errors ? Object.values(res.errors) : [];
            nextCode.textContent = errs.length ? errs.join(' ') : res.message || none;
          }
        })
        .catch(function () {
          nextCode.textContent = none;
        });
    };
    ['parent', 'province', 'block'].forEach(function (name) {
      var el = register.elements.namedItem(name);
      if (!el) return;
      el.addEventListener('change', preview);
      el.addEventListener('input', function () {
        window.clearTimeout(previewTimer);
        previewTimer = window.setTimeout(preview, 400);
      });
    });
    // A form sent back (refused, or the preview step) with a parent already typed: show its code.
    if (!nextCode.querySelector('code')) preview();
  }

  // Import progress: poll the job's status and reload the page when it ends.
  var job = document.getElementById('job');
  if (job && job.dataset.state === 'running') {
    var bar = document.getElementById('job-progress');
    var phase = document.getElementById('job-phase');
    var count = document.getElementById('job-count');
    var poll = function () {
      fetch('/ui/admin/imports/' + encodeURIComponent(job.dataset.job) + '/status', {
        credentials: 'same-origin',
        headers: { accept: 'application/json' },
      })
        .then(function (r) {
          return r.json();
        })
        .then(function (s) {
          if (s.state !== 'running') {
            window.location.reload();
            return;
          }
          if (bar && s.total) bar.value = Math.round((s.done / s.total) * 100);
          if (phase) phase.textContent = s.phaseLabel || '';
          if (count) count.textContent = s.done + '/' + s.total;
          window.setTimeout(poll, 700);
        })
        .catch(function () {
          window.setTimeout(poll, 2000);
        });
    };
    window.setTimeout(poll, 500);
  }
})();

// --- pages ---
// <input type=checkbox data-select-all="name">: checks or unchecks every checkbox `name` of its form.
(function () {
  'use strict';
  document.querySelectorAll('input[type=checkbox][data-select-all]').forEach(function (all) {
    all.addEventListener('change', function () {
      var form = all.form;
      if (!form) return;
      form
        .querySelectorAll('input[type=checkbox][name="' + all.dataset.selectAll + '"]')
        .forEach(function (box) {
          box.checked = all.checked;
        });
    });
  });
})();
