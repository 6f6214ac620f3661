"""A Textual stylesheet that keeps parsed rules across Textual's re-parses.

Textual builds a fresh `Stylesheet` (with an empty parse cache) on every `refresh_css`, and
switching to the first mode's screen triggers that three times, so each CSS source was
parsed five times before the first frame: about 35% of the time from `App.run` to the
first frame (bench/startup_bench.py). A parse depends only on the CSS text, where it came
from, its scope and the CSS variables, so the rules are kept per process under all of those.
"""

from __future__ import annotations

from typing import ClassVar

from textual.css.model import RuleSet
from textual.css.stylesheet import CSSLocation, Stylesheet

_MAX_ENTRIES = 512  # a few themes' worth of sources; cleared (not grown) beyond that


class CachedStylesheet(Stylesheet):
    """`Stylesheet` whose parsed rules outlive `reparse()` and `set_variables()`."""

    _rules_cache: ClassVar[dict[tuple[object, ...], list[RuleSet]]] = {}

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._variables_key: tuple[tuple[str, str], ...] | None = None

    @classmethod
    def replacing(cls, sheet: Stylesheet) -> CachedStylesheet:
        """A cached sheet with `sheet`'s variables (App.__init__ just computed them, ~2 ms)."""
        cached = cls(variables=sheet._variables)
        cached.source = sheet.source.copy()
        return cached

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._variables_key = None

    def _parse_rules(
        self,
        css: str,
        read_from: CSSLocation,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        if self._variables_key is None:
            self._variables_key = tuple(sorted(self._variables.items()))
        key = (self._variables_key, css, read_from, is_default_rules, tie_breaker, scope)
        rules = self._rules_cache.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            if len(self._rules_cache) >= _MAX_ENTRIES:
                self._rules_cache.clear()
            self._rules_cache[key] = rules
        return rules

    def copy(self) -> CachedStylesheet:
        stylesheet = CachedStylesheet(variables=self._variables.copy())
        stylesheet.source = self.source.copy()
        return stylesheet

    def reparse(self) -> None:
        """As `Stylesheet.reparse` (parse into a fresh sheet, keep self on error), cached."""
        fresh = self.copy()
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self.source = fresh.source
        self._require_parse = False
