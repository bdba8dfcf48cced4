"""Translations of the web pages (Babel + Jinja2's i18n extension).

The catalogs are the committed gettext files ``locale/<lang>/LC_MESSAGES/messages.po``
(template: ``locale/messages.pot``, extracted with ``pybabel extract -F babel.cfg``). They
are compiled in memory when the server starts (Babel's ``read_po`` / ``write_mo``), so no
``.mo`` build step or binary file is needed. The language of a page: the ``openwfm_lang``
cookie the language switcher sets, else the best match of ``Accept-Language``, else English.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup, escape

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español"}
"""The page languages, each named in itself (the switcher shows these)."""
DEFAULT = "en"
LANG_COOKIE = "openwfm_lang"


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of `lang` (English: the msgids themselves)."""
    if lang == DEFAULT:
        return NullTranslations()
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie's when it is one of `LANGUAGES`, else the first
    supported language of the ``Accept-Language`` header (by quality), else English.

    >>> negotiate(None, "es-CO,es;q=0.9,en;q=0.8")
    'es'
    >>> negotiate("fr", "es")
    'fr'
    >>> negotiate(None, "de-DE,fr;q=0.5,en;q=0.7")
    'en'
    >>> negotiate("xx", None)
    'en'
    """
    if cookie in LANGUAGES:
        return str(cookie)
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > 0:
            ranked.append((-q, i, base))
    return sorted(ranked)[0][2] if ranked else DEFAULT


def gettext_functions(lang: str) -> dict[str, Callable[..., Any]]:
    """``gettext``, ``ngettext`` and ``_`` for a template context, with the semantics of
    Jinja2's new-style gettext (keyword arguments are escaped and substituted; the message
    is always %-formatted, so a literal percent sign is ``%%``).

    >>> f = gettext_functions("fr")
    >>> str(f["_"]("Hello, %(name)s", name="<b>")), str(f["_"]("Change (%%)"))
    ('Bonjour, &lt;b&gt;', 'Variation (%)')
    """
    tr = translations(lang)

    def gettext(message: str, **variables: Any) -> str:
        # always %-formatted, as Jinja's new-style gettext does: a literal % is written %%
        rv = Markup(tr.gettext(message))
        return rv % {k: escape(v) for k, v in variables.items()}

    def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
        variables.setdefault("num", n)
        rv = Markup(tr.ngettext(singular, plural, n))
        return rv % {k: escape(v) for k, v in variables.items()}

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


def locale(lang: str) -> Locale:
    return Locale.parse(lang)
