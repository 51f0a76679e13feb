/* The catalog index: filter and sort the server-rendered rows in place. Without JavaScript the
   whole table shows; with it, rows are only hidden and reordered, never built from data, so no
   text from the repository ever becomes markup. Work is kept linear for 10,000 rows: each
   row's search text and each column's keys are read once, then reused. */
(function () {
  "use strict";
  var table = document.getElementById("catalog");
  var form = document.getElementById("filters");
  if (table === null || form === null) {
    return;
  }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  var keys = {};
  var text = document.getElementById("filter-text");
  var action = document.getElementById("filter-action");
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
  var shown = document.getElementById("shown");
  var pending = 0;

  function apply() {
    var needle = text.value.trim().toLowerCase();
    var wanted = selects.map(function (select) {
      return [select.getAttribute("data-filter"), select.value];
    });
    var count = 0;
    rows.forEach(function (row, index) {
      var keep = needle === "" || texts[index].indexOf(needle) !== -1;
      for (var i = 0; keep && i < wanted.length; i += 1) {
        keep = wanted[i][1] === "" || row.getAttribute("data-" + wanted[i][0]) === wanted[i][1];
      }
      keep = keep && (!action.checked || row.getAttribute("data-action") === "1");
      if (row.hidden === keep) {
        row.hidden = !keep;
      }
      count += keep ? 1 : 0;
    });
    shown.textContent = count + " shown";
  }

  function later() {
    window.clearTimeout(pending);
    pending = window.setTimeout(apply, 120);
  }

  function keysOf(column) {
    if (!keys[column]) {
      keys[column] = rows.map(function (row) {
        var cell = row.cells[column];
        var sort = cell.getAttribute("data-sort");
        return sort !== null ? sort : cell.textContent.trim().toLowerCase();
      });
    }
    return keys[column];
  }

  function sortBy(button) {
    var column = Number(button.getAttribute("data-column"));
    var header = button.parentNode;
    var descending = header.getAttribute("aria-sort") === "ascending";
    var found = keysOf(column);
    var order = rows.map(function (row, index) { return index; });
    order.sort(function (a, b) {
      var left = found[a];
      var right = found[b];
      var result = left < right ? -1 : left > right ? 1 : a - b;
      return descending ? -result : result;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    // Emptied first, in one step: Chromium takes a row out of a table body in time that grows
    // with the rows after it, so moving them one by one from the top took 4 to 11 s.
    body.textContent = "";
    var fragment = document.createDocumentFragment();
    order.forEach(function (index) { fragment.appendChild(rows[index]); });
    body.appendChild(fragment);
  }

  text.addEventListener("input", later);
  action.addEventListener("change", apply);
  selects.forEach(function (select) { select.addEventListener("change", apply); });
  table.tHead.addEventListener("click", function (event) {
    var button = event.target.closest("button.sort");
    if (button !== null) {
      sortBy(button);
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  apply();
}());
