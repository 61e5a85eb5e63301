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

// The contacts list: the header checkbox ticks every contact on the page, and the bulk bar
// says how many are ticked.
function countTicked() {
  const label = document.getElementById("bulk-count");
  if (!label) return;
  const n = document.querySelectorAll(".bulk-pick:checked").length;
  label.textContent = n ? `${n} ticked` : "Tick contacts to act on them";
}
document.addEventListener("change", (event) => {
  if (event.target.matches(".bulk-all")) {
    for (const box of document.querySelectorAll(".bulk-pick")) box.checked = event.target.checked;
  }
  if (event.target.matches(".bulk-all, .bulk-pick")) countTicked();
});
document.addEventListener("htmx:afterSwap", countTicked);

// The account menu closes on a click elsewhere or on Escape, like any menu.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.account-menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.account-menu[open]")) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});
