// Progressive enhancement of the web UI (served as a file: the CSP forbids inline scripts).
// Everything works without it; with it: the menu's state (aria-expanded, Escape), confirmation
// prompts, reading a chosen file into a textarea, and live progress of bulk imports.
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
