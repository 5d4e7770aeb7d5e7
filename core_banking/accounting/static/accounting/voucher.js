// Voucher lines: add and remove rows, and show the totals while typing (the server checks again).
(function () {
  "use strict";
  const lines = document.querySelector("[data-voucher-lines]");
  if (!lines) return;
  const total = document.getElementById("id_lines-TOTAL_FORMS");
  const template = document.getElementById("line-template");
  const rows = lines.querySelector("[data-rows]");

  function parse(value) {
    const number = Number(String(value || "").replace(/,/g, "").trim());
    return Number.isFinite(number) ? number : 0;
  }

  function sum(name) {
    let result = 0;
    rows.querySelectorAll("input[name$='-" + name + "']").forEach(function (input) {
      result += parse(input.value);
    });
    return result;
  }

  function refresh() {
    const digits = Number(lines.dataset.digits || "2");
    const debit = sum("debit");
    const credit = sum("credit");
    const amount = sum("amount");
    const show = function (id, value) {
      const element = document.getElementById(id);
      if (element) element.textContent = value.toFixed(digits);
    };
    show("total-debit", debit);
    show("total-credit", credit);
    show("total-amount", amount);
    const difference = document.getElementById("total-difference");
    if (difference) {
      const gap = Math.abs(debit - credit);
      difference.textContent = gap.toFixed(digits);
      difference.parentElement.classList.toggle("unbalanced", gap > 0);
    }
  }

  document.getElementById("add-line").addEventListener("click", function () {
    const index = Number(total.value);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const added = rows.lastElementChild.querySelector("select");
    if (added) added.focus();
  });

  rows.addEventListener("click", function (event) {
    const button = event.target.closest(".remove-line");
    if (!button) return;
    const row = button.closest(".line-row");
    row.querySelectorAll("input, select").forEach(function (field) { field.value = ""; });
    row.hidden = true;
    refresh();
  });

  rows.addEventListener("input", refresh);
  refresh();
})();
