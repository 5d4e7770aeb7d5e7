// The day close form: each line's amount, the counted total and the difference from the book,
// computed as the cashier types. Amounts are whole minor units (BigInt), never floating point;
// the server recounts everything when the form is sent.
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("form[data-cash-count]");
    if (!form) return;
    var exponent = Number(form.dataset.exponent);
    var scale = BigInt(10) ** BigInt(exponent);
    var book = BigInt(form.dataset.bookMinor);
    var formatter = new Intl.NumberFormat(form.dataset.locale, {
      style: "currency",
      currency: form.dataset.currency,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });

    function money(minor) {
      var negative = minor < 0n;
      var size = negative ? -minor : minor;
      var text = (size / scale).toString();
      if (exponent > 0) text += "." + (size % scale).toString().padStart(exponent, "0");
      return formatter.format((negative ? "-" : "") + text);
    }

    function pieces(input) {
      var value = input.value.trim();
      return /^[0-9]+$/.test(value) ? BigInt(value) : 0n;
    }

    function update() {
      var counted = 0n;
      form.querySelectorAll("input[data-value-minor]").forEach(function (input) {
        var amount = pieces(input) * BigInt(input.dataset.valueMinor);
        counted += amount;
        var line = form.querySelector('output[data-line-for="' + input.name + '"]');
        if (line) line.textContent = amount ? money(amount) : "";
      });
      var difference = counted - book;
      form.querySelector("output[data-counted]").textContent = money(counted);
      var shown = form.querySelector("output[data-difference]");
      var label = form.querySelector("[data-difference-label]");
      shown.textContent = difference === 0n ? "" : money(difference < 0n ? -difference : difference);
      label.textContent =
        difference < 0n ? form.dataset.shortage : difference > 0n ? form.dataset.surplus : form.dataset.agrees;
      shown.classList.toggle("cash-short", difference < 0n);
      shown.classList.toggle("cash-over", difference > 0n);
    }

    form.addEventListener("input", update);
    update();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
