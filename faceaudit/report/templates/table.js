// The index's tables in the browser, offline and without a library: a click on a header sorts the table by that
// column (a second click reverses it), and a filter box keeps the rows of its tables that hold every word typed.
// Number cells sort by their data-value (the exact value); cells without one (n/a) go last either way.
(function () {
  "use strict";

  function sortKey(cell, numeric) {
    if (!cell) return null;
    if (numeric) {
      var value = cell.hasAttribute("data-value") ? parseFloat(cell.getAttribute("data-value")) : NaN;
      return isNaN(value) ? null : value;
    }
    var text = cell.textContent.trim();
    return text === "" ? null : text;
  }

  function compareKeys(left, right, numeric) {
    if (numeric) return left - right;
    return left.localeCompare(right, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, header) {
    var column = header.cellIndex;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.some(function (row) {
      return row.cells[column] && row.cells[column].hasAttribute("data-value");
    });
    var direction = header.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var keyed = rows.map(function (row, position) {
      return { row: row, key: sortKey(row.cells[column], numeric), position: position };
    });
    keyed.sort(function (left, right) {
      if (left.key === null || right.key === null) {
        return (left.key === null) - (right.key === null) || left.position - right.position;
      }
      return direction * compareKeys(left.key, right.key, numeric) || left.position - right.position;
    });
    var sorted = document.createDocumentFragment();
    keyed.forEach(function (entry) {
      sorted.appendChild(entry.row);
    });
    body.appendChild(sorted);
    Array.prototype.forEach.call(header.parentNode.cells, function (other) {
      other.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
  }

  var rowText = new WeakMap();

  function filterTables(name, query) {
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    var total = 0;
    document.querySelectorAll('table.sortable[data-filter="' + name + '"]').forEach(function (table) {
      var visible = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var text = rowText.get(row);
        if (text === undefined) {
          text = row.textContent.toLowerCase();
          rowText.set(row, text);
        }
        row.hidden = !words.every(function (word) {
          return text.indexOf(word) !== -1;
        });
        visible += row.hidden ? 0 : 1;
      });
      var group = table.closest("details.group");
      if (group) group.hidden = visible === 0;
      shown += visible;
      total += table.tBodies[0].rows.length;
    });
    document.querySelectorAll('span.shown[data-filter="' + name + '"]').forEach(function (count) {
      count.textContent = words.length ? shown + " of " + total + " rows shown" : total + " rows";
    });
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header) {
      header.tabIndex = 0;
      header.title = "sort by this column (again: reverse)";
      header.addEventListener("click", function () {
        sortBy(table, header);
      });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, header);
        }
      });
    });
  });
  document.querySelectorAll('input[type="search"][data-filter]').forEach(function (input) {
    var name = input.getAttribute("data-filter");
    input.addEventListener("input", function () {
      filterTables(name, input.value);
    });
    filterTables(name, input.value);
  });
})();
