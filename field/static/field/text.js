// The page's configuration and its strings, rendered by the server in the page's language
// (field/app_views.py). The scripts hold no text of their own.
export const config = JSON.parse(document.getElementById("field-config").textContent);

// A string with its %(name)s placeholders filled in.
export function t(key, values = {}) {
  const text = config.strings[key] ?? key;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
