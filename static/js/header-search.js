/* The header's customer search (templates/partials/_header_search.html). htmx posts what is typed and swaps the
   dropdown in; this file makes the dropdown a listbox for the keyboard:
   - ArrowDown / ArrowUp move through the hits (aria-activedescendant on the box), Enter opens the chosen hit's
     360° page; Enter with no hit chosen submits the box to the full customer list;
   - Escape, or a click outside, closes the dropdown; typing again opens it;
   - an answer from another page (the session ended: the sign-in page) is opened as a page. */
(function () {
  const box = document.getElementById("header-search-q");
  const results = document.getElementById("header-search-results");
  if (!box || !results) return;
  const wrapper = box.closest("[data-header-search]");

  function options() {
    return Array.from(results.querySelectorAll("[role=option]"));
  }

  function isOpen() {
    return !results.hidden && results.firstElementChild !== null;
  }

  function choose(index) {
    const all = options();
    all.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      option.classList.toggle("active", i === index);
    });
    if (index >= 0 && all[index]) {
      box.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function chosen() {
    return options().findIndex(function (option) { return option.getAttribute("aria-selected") === "true"; });
  }

  function open() {
    results.hidden = results.firstElementChild === null;
    box.setAttribute("aria-expanded", results.hidden ? "false" : "true");
  }

  function close() {
    results.hidden = true;
    box.setAttribute("aria-expanded", "false");
    choose(-1);
  }

  // A session that ended meanwhile answers with the sign-in page: go there rather than draw it in the dropdown.
  results.addEventListener("htmx:beforeSwap", function (event) {
    const answered = event.detail.xhr && event.detail.xhr.responseURL;
    if (!answered) return;
    const asked = new URL(box.getAttribute("hx-post"), window.location.href);
    if (new URL(answered).pathname !== asked.pathname) {
      event.detail.shouldSwap = false;
      window.location.assign(answered);
    }
  });

  results.addEventListener("htmx:afterSwap", function () {
    if (box.value.trim() === "") {
      results.replaceChildren();
      close();
      return;
    }
    open();
    choose(-1);
  });

  box.addEventListener("keydown", function (event) {
    const all = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!isOpen() || all.length === 0) return;
      event.preventDefault();
      const current = chosen();
      const step = event.key === "ArrowDown" ? 1 : -1;
      choose(current < 0 ? (step > 0 ? 0 : all.length - 1) : (current + step + all.length) % all.length);
    } else if (event.key === "Enter") {
      const current = chosen();
      if (isOpen() && current >= 0) {
        event.preventDefault();
        window.location.assign(all[current].dataset.href);
      }
      // otherwise the form submits: the full list, through the search token step
    } else if (event.key === "Escape") {
      if (isOpen()) {
        event.preventDefault();
        close();
      }
    }
  });

  box.addEventListener("input", function () {
    if (box.value.trim() === "") close();
  });

  box.addEventListener("focus", function () {
    if (box.value.trim() !== "" && results.firstElementChild !== null) open();
  });

  results.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      close();
      box.focus();
    }
  });

  document.addEventListener("click", function (event) {
    if (wrapper && !wrapper.contains(event.target)) close();
  });

  // A click on a hit opens its 360° page; a quick action opens the modal and the dropdown closes behind it.
  results.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest("[data-bs-toggle=modal]")) {
      close();
      return;
    }
    const hit = event.target.closest("[role=option]");
    if (hit && !event.target.closest("a, button")) window.location.assign(hit.dataset.href);
  });
})();
