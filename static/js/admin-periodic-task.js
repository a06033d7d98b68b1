/* The periodic task form in Django admin (django-celery-beat): under the crontab field, the chosen schedule in
   words. django-celery-beat does this in an inline script, which the Content-Security-Policy does not run; this
   file does the same from templates/admin/djcelery/change_periodictask_form.html's data. */
(function (script) {
  const $ = window.django && window.django.jQuery;
  const data = document.getElementById("readable-crontabs");
  if (!$ || !script || !data) return;
  const readable = JSON.parse(data.textContent);
  const help = script.dataset.help || "";

  function show() {
    const words = readable[$("#id_crontab").val()];
    const box = $(".field-crontab .help");
    box.text(help);
    if (words) box.append(document.createElement("br"), document.createTextNode(script.dataset.label + ": " + words));
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").on("change", show);
})(document.currentScript);
