// The intake form's repeatable parties (progressive enhancement: without this script the
// form already offers blank rows). "Add" clones the last row of its side, renumbers its
// field names (applicants.3.name -> applicants.4.name) and clears the copy.
(function () {
  "use strict";
  document.querySelectorAll("fieldset.parties").forEach(function (side) {
    var button = side.querySelector("button.add-party");
    var name = side.getAttribute("data-side");
    if (!button || !name) { return; }
    button.style.display = "";
    button.addEventListener("click", function () {
      var rows = side.querySelectorAll("fieldset.party");
      var last = rows[rows.length - 1];
      var index = Number(last.getAttribute("data-index")) + 1;
      var copy = last.cloneNode(true);
      copy.setAttribute("data-index", String(index));
      var legend = copy.querySelector("legend");
      if (legend) { legend.textContent = legend.textContent.replace(/\d+/, String(index + 1)); }
      var pattern = new RegExp("^" + name + "\\.\\d+\\.");
      copy.querySelectorAll("input, select").forEach(function (field) {
        field.name = field.name.replace(pattern, name + "." + index + ".");
        field.removeAttribute("required");
        field.removeAttribute("aria-invalid");
        field.removeAttribute("autofocus");
        if (field.type === "checkbox") { field.checked = false; }
        else if (field.tagName === "INPUT") { field.value = ""; }
      });
      copy.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
      last.after(copy);
      var first = copy.querySelector("input");
      if (first) { first.focus(); }
    });
  });
})();
