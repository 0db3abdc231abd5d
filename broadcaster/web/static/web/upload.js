// Upload progress for the library form: htmx reports XHR progress; show it in the <progress> bar.
(function () {
  var form = document.getElementById("upload-form");
  if (!form) return;
  var bar = document.getElementById("upload-progress");
  form.addEventListener("htmx:xhr:progress", function (evt) {
    if (evt.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((evt.detail.loaded / evt.detail.total) * 100);
    }
  });
  form.addEventListener("htmx:afterRequest", function () { bar.value = 100; });
})();
