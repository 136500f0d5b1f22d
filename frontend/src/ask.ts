// The Ask page's island: "/" focuses the search box from anywhere on the page (unless the
// visitor is typing in a field), and Escape clears it.
const box = document.querySelector<HTMLInputElement>("#q");

if (box) {
  document.addEventListener("keydown", (event: KeyboardEvent) => {
    const target = event.target as HTMLElement | null;
    const typing = target !== null && target.closest("input, textarea, select") !== null;
    if (event.key === "/" && !typing) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && target === box) {
      box.value = "";
    }
  });
}
