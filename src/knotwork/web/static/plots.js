// Draw every plotly figure of the page: each is JSON in a data-figure attribute (never script).
// plotly's own JavaScript comes from the installed plotly Python package (see web/groups.py).
for (const element of document.querySelectorAll("[data-figure]")) {
  const figure = JSON.parse(element.dataset.figure);
  const layout = Object.assign({}, figure.layout, { autosize: true });
  window.Plotly.newPlot(element, figure.data, layout, { responsive: true, displaylogo: false })
    .then(() => element.setAttribute("data-drawn", "1"));
}
