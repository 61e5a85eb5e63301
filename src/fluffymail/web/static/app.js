// FluffyMail's own page behaviour, kept out of the HTML: the Content-Security-Policy runs no
// inline script or event-handler attribute.

// An upload form shows its progress bar while htmx sends the file.
document.addEventListener("htmx:xhr:progress", (event) => {
  const bar = event.target.querySelector(".upload-progress");
  if (!bar || !event.detail.lengthComputable) return;
  const pct = Math.round((100 * event.detail.loaded) / event.detail.total);
  bar.hidden = false;
  bar.querySelector("progress").value = pct;
  bar.querySelector("output").textContent = `${pct}%`;
});
