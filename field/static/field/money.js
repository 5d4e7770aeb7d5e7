// Money as integers of the currency's minor unit (VND 0 decimals, BDT 2), never floats.
// Amounts are formatted from the integer's digits: the major part as a BigInt, the decimals as
// the digits themselves, laid out by Intl.NumberFormat for the page's language (1,00,000.00 in
// Bangla, 100.000 ₫ in Vietnamese).

const LOCALES = { en: "en", bn: "bn-BD", vi: "vi-VN", th: "th-TH" };
const NATIVE_DIGITS = { bn: "০১২৩৪৫৬৭৮৯", th: "๐๑๒๓๔๕๖๗๘๙" };

export function locale(language) {
  return LOCALES[language] || "en";
}

function splitMinor(minor, exponent) {
  const value = BigInt(minor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, "0");
  const cut = digits.length - exponent;
  return { negative, major: BigInt(digits.slice(0, cut)), fraction: digits.slice(cut) };
}

function nativeDigits(text, digits) {
  return text.replace(/[0-9]/g, (digit) => digits[Number(digit)]);
}

// 10661185 BDT (exponent 2) in Bangla → "১,০৬,৬১১.৮৫৳" with native digits, "1,06,611.85৳" without.
export function formatMinor(minor, { code, exponent, language, native = false }) {
  const { negative, major, fraction } = splitMinor(minor, exponent);
  const format = new Intl.NumberFormat(locale(language), {
    style: "currency",
    currency: code,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
    numberingSystem: "latn",
  });
  // The layout comes from the major part (an exact BigInt); the decimals are put in as digits.
  // Below one unit, -0.50 takes its sign from -1 with its integer part written as 0.
  const signOnly = negative && major === 0n;
  const parts = format.formatToParts(signOnly ? -1n : negative ? -major : major);
  const text = parts
    .map((part) => {
      if (part.type === "fraction") return fraction;
      if (part.type === "integer" && signOnly) return "0";
      return part.value;
    })
    .join("");
  const digits = NATIVE_DIGITS[language];
  return native && digits ? nativeDigits(text, digits) : text;
}

// Digits typed in Bangla or Thai count as 0-9.
export function foldDigits(text) {
  let folded = String(text);
  for (const digits of Object.values(NATIVE_DIGITS)) {
    folded = folded.replace(new RegExp(`[${digits}]`, "g"), (digit) => String(digits.indexOf(digit)));
  }
  return folded;
}

// "1066.85" with exponent 2 → 106685; "50000" with exponent 0 → 50000. Null for anything else:
// more decimals than the currency has, signs, letters, zero. Grouping spaces are ignored.
export function parseAmount(text, exponent) {
  const cleaned = foldDigits(text).replace(/[\s\u00a0\u202f]/g, "");
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(cleaned);
  if (!match) return null;
  const decimals = match[2] || "";
  if (decimals.length > exponent) return null;
  const minor = BigInt(match[1] + decimals.padEnd(exponent, "0"));
  if (minor <= 0n || minor > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(minor);
}

// 106685 with exponent 2 → "1066.85": what an amount field shows when it is filled in for the collector.
export function minorToInput(minor, exponent) {
  const { major, fraction } = splitMinor(minor, exponent);
  return exponent ? `${major}.${fraction}` : `${major}`;
}
