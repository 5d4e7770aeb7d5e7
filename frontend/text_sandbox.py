"""Texts that a cooperative's staff edit, with placeholders: checked on save, filled in Jinja's sandbox.

Loan documents' wording (``core_banking.lending.wording``) and SMS texts (``notifications.texts``)
let a cooperative write its own text around placeholders such as ``{{ amount }}``. Both allow the
same small language, checked on the parsed template before anything is stored: placeholders (names
read, never assigned), constants, ``if``/``else`` with ``and``/``or``/``not``, and a few named
filters without arguments. Attribute access, calls, loops, tests, globals and every other filter are
refused; rendering happens in Jinja's ``SandboxedEnvironment`` with no globals and no tests, from
plain strings only, so even a text that slipped past the check could reach nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from django.utils.translation import gettext
from jinja2 import Template, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Filter,
)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


class TextSandbox:
    """The checked language for one kind of text: which filters it allows and whether it escapes HTML."""

    def __init__(self, *, filters: Iterable[str], autoescape: bool) -> None:
        self.filters = tuple(filters)
        environment = SandboxedEnvironment(autoescape=autoescape, keep_trailing_newline=False)
        kept = {name: environment.filters[name] for name in self.filters}
        environment.filters.clear()
        environment.filters.update(kept)
        environment.globals.clear()
        environment.tests.clear()
        self.environment = environment

    def _allowed(self, node: nodes.Node) -> bool:
        if type(node) not in ALLOWED_NODES:
            return False
        if isinstance(node, nodes.Name):
            return node.ctx == "load"
        if isinstance(node, nodes.Filter):
            return (
                node.name in self.filters
                and not node.kwargs
                and node.dyn_args is None
                and node.dyn_kwargs is None
            )
        return True

    def problems(
        self, text: str, *, placeholders: Iterable[str], example: str, unknown_message: str
    ) -> list[str]:
        """Why ``text`` cannot be used (empty when it can).

        ``example`` names a placeholder of this kind of text for the message about refused syntax;
        ``unknown_message`` words the refusal of unknown placeholders (``%(names)s``), since what
        the list belongs to ("this document", "this message") is the caller's to say.
        """
        try:
            tree = self.environment.parse(text)
            found = list(_walk(tree))
            refused = any(not self._allowed(node) for node in found)
            # Every name read, and what Jinja finds undeclared; ``self`` (the template) is declared to it.
            named = {node.name for node in found if isinstance(node, nodes.Name)}
            named |= meta.find_undeclared_variables(tree)
        except TemplateError as error:
            line = getattr(error, "lineno", None) or 1
            return [
                gettext("The placeholders cannot be read on line %(line)s: %(problem)s")
                % {"line": line, "problem": error.message or ""}
            ]
        except RecursionError:
            return [gettext("The placeholders cannot be read: they are nested too deeply.")]
        if refused:
            return [
                gettext(
                    "Only placeholders such as %(example)s, conditions (if, else, endif) and the "
                    "filters %(filters)s may be used."
                )
                % {"example": "{{ " + example + " }}", "filters": ", ".join(self.filters)}
            ]
        unknown = sorted(named - set(placeholders))
        if unknown:
            return [unknown_message % {"names": ", ".join(unknown)}]
        return []

    def compile(self, text: str) -> Template:
        """The template of ``text`` (raises ``TemplateError`` when it does not parse)."""
        return self.environment.from_string(text)

    def fill(self, text: str, values: Mapping[str, str]) -> str:
        return str(self.compile(text).render(dict(values)))
