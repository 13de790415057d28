// Document uploads with a progress bar and drag-and-drop. Without this script the same forms
// post normally; with it, the file goes through XMLHttpRequest, whose upload progress events
// drive the <progress> element, and the server answers JSON.
(function () {
  'use strict';

  function setup(form) {
    var input = form.querySelector('input[type=file]');
    var zone = form.querySelector('[data-dropzone]');
    var bar = form.querySelector('progress');
    var status = form.querySelector('[role=status]');
    var button = form.querySelector('button[type=submit]');
    var dropped = null;

    function say(text) { status.textContent = text; }
    function chosen(name) { say(form.dataset.chosen.replace('%name%', name)); }

    input.addEventListener('change', function () {
      dropped = null;
      if (input.files.length) { chosen(input.files[0].name); }
    });
    ['dragenter', 'dragover'].forEach(function (type) {
      zone.addEventListener(type, function (e) {
        e.preventDefault();
        zone.classList.add('dragging');
      });
    });
    ['dragleave', 'drop'].forEach(function (type) {
      zone.addEventListener(type, function (e) {
        e.preventDefault();
        zone.classList.remove('dragging');
      });
    });
    zone.addEventListener('drop', function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
      dropped = e.dataTransfer.files[0];
      input.required = false;
      chosen(dropped.name);
    });

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      // The form's order is kept: the CSRF token first, then the text fields, then the file.
      var data = new FormData(form);
      if (dropped) { data.set('file', dropped, dropped.name); }
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('Accept', 'application/json');
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      xhr.upload.addEventListener('progress', function (p) {
        if (!p.lengthComputable) { return; }
        var percent = Math.floor((p.loaded / p.total) * 100);
        bar.value = percent;
        say(form.dataset.progress.replace('%percent%', String(percent)));
      });
      xhr.addEventListener('load', function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (_) { answer = {}; }
        if (xhr.status === 201 && answer.url) {
          bar.value = 100;
          say(form.dataset.done);
          window.location.assign(answer.url);
          return;
        }
        button.disabled = false;
        bar.hidden = true;
        say(answer.detail || form.dataset.failed);
        status.classList.add('form-error');
      });
      xhr.addEventListener('error', function () {
        button.disabled = false;
        bar.hidden = true;
        say(form.dataset.failed);
        status.classList.add('form-error');
      });
      status.classList.remove('form-error');
      xhr.send(data);
    });
  }

  document.querySelectorAll('form[data-upload]').forEach(setup);
}());
