// Speech takes seconds: say so, and keep a second click from writing the bulletin twice.
(function () {
  var form = document.getElementById("bulletin-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    document.getElementById("bulletin-submit").disabled = true;
    document.getElementById("speaking").hidden = false;
  });
})();
