/* A filter box over a long list of checkboxes (the visit plan's customers). The Content-Security-Policy allows no
   inline script (docs/security.md), so the markup declares it:
     <input type="search" data-filter-list="#list-id">            the box (no name: it is never posted)
     <div id="list-id"> … <div class="form-check">…</div> … </div>  the options, as crispy-forms renders them
     <p data-filter-empty="#list-id" hidden>…</p>                   shown when nothing matches
   Typing hides the options whose label does not contain every word typed (case-insensitive); a checked option
   always stays visible, so what is picked is never hidden. Enter in the box filters, it does not submit. */
(function () {
  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function apply(box) {
    const list = document.querySelector(box.dataset.filterList);
    if (!list) return;
    const wanted = words(box.value);
    let shown = 0;
    list.querySelectorAll(".form-check").forEach(function (option) {
      const input = option.querySelector("input");
      const label = option.textContent.toLowerCase();
      const match = wanted.every(function (w) { return label.includes(w); }) || (input && input.checked);
      option.hidden = !match;
      if (match) shown += 1;
    });
    document.querySelectorAll('[data-filter-empty="' + box.dataset.filterList + '"]').forEach(function (el) {
      el.hidden = shown > 0;
    });
  }

  document.querySelectorAll("[data-filter-list]").forEach(function (box) {
    box.addEventListener("input", function () { apply(box); });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); apply(box); }
    });
    if (box.value) apply(box); // a value the browser restored on going back
  });
})();
