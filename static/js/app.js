/* Behaviours the pages declare with data attributes. The Content-Security-Policy allows no inline script and no
   style="" attribute (docs/security.md), so markup names what it needs and this file does it:
   - data-autosubmit on a form control submits its form when the value changes (language switch, period picker);
   - data-width="37" sets an element's width to 37 % (the feed's progress bar), in content htmx swaps in too. */
(function () {
  document.addEventListener("change", function (event) {
    const control = event.target instanceof Element ? event.target.closest("[data-autosubmit]") : null;
    if (!control || !control.form) return;
    if (control.form.requestSubmit) control.form.requestSubmit();
    else control.form.submit();
  });

  function widths(root) {
    const found = root.querySelectorAll ? Array.from(root.querySelectorAll("[data-width]")) : [];
    if (root.matches && root.matches("[data-width]")) found.push(root);
    found.forEach(function (el) {
      const percent = Math.max(0, Math.min(100, Number(el.dataset.width) || 0));
      el.style.width = percent + "%"; // a CSSOM property, which the policy allows
    });
  }

  widths(document); // this file loads at the end of <body>: the page is there
  // Content swapped in later (htmx) gets its width before it is first drawn: an observer runs before rendering.
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) { if (node.nodeType === Node.ELEMENT_NODE) widths(node); });
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
