// Library upload, one file at a time: each chosen file gets its own row (name, its own progress bar), and its
// ✔/✖ result replaces the bar as soon as that file is ingested. The view answers a request with the HX-Request
// header with the _upload_results.html fragment. Without JavaScript the form posts every file at once.
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = document.getElementById("upload-files");
  var button = document.getElementById("upload-button");
  var results = document.getElementById("upload-results");

  function row(list, file) {
    var li = document.createElement("li");
    li.className = "uploading";
    li.setAttribute("data-uploading", file.name);
    var name = document.createElement("b");
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    li.appendChild(name);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(bar);
    list.appendChild(li);
    return li;
  }

  function failed(li, file, why) {
    li.className = "error";
    li.removeAttribute("data-uploading");
    li.setAttribute("data-file", file.name);
    li.appendChild(document.createTextNode(" ✖ " + form.getAttribute("data-failed") + " (" + why + ")"));
  }

  function send(file, li) {
    return new Promise(function (done) {
      var data = new FormData(form);
      data.delete("files");
      data.append("files", file, file.name);
      var bar = li.querySelector("progress");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("HX-Request", "true");
      xhr.setRequestHeader("X-CSRFToken", data.get("csrfmiddlewaretoken"));
      xhr.upload.onprogress = function (evt) {
        if (evt.lengthComputable) bar.value = Math.round((evt.loaded / evt.total) * 100);
      };
      xhr.onload = function () {
        var answer = document.createElement("div");
        answer.innerHTML = xhr.responseText;
        var got = xhr.status === 200 ? answer.querySelector(".upload-results li") : null;
        if (got) {
          bar.value = 100;
          got.appendChild(document.createTextNode(" "));
          got.appendChild(bar);  // the bar stays, full, after the result
          li.replaceWith(got);
        } else {
          failed(li, file, "HTTP " + xhr.status);
        }
        done();
      };
      xhr.onerror = function () { failed(li, file, "network"); done(); };
      xhr.send(data);
    });
  }

  form.addEventListener("submit", function (evt) {
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) return;  // the view says "no file chosen"
    evt.preventDefault();
    var list = document.createElement("ul");
    list.className = "upload-results";
    results.innerHTML = "";
    results.appendChild(list);
    var rows = files.map(function (file) { return row(list, file); });
    button.disabled = true;
    files.reduce(function (previous, file, n) {
      return previous.then(function () { return send(file, rows[n]); });
    }, Promise.resolve()).then(function () {
      button.disabled = false;
      form.dispatchEvent(new CustomEvent("upload:done", { bubbles: true }));
    });
  });
})();
