"""The web pages' translations: every message of the pages (extracted from the templates
and the web code with Babel, as `pybabel extract -F babel.cfg` does) is in the committed
catalog template, and French and Spanish translate every one (no empty or fuzzy entry, the
same %(placeholders)s)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from openwfm.web import i18n

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "openwfm" / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
    options = {"**/templates/**.html": {"trim_blocks": "True", "lstrip_blocks": "True"}}
    out = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            WEB, method_map, options, keywords={"_": None, "N_": None, "gettext": None,
                                                "ngettext": (1, 2)}):
        out.add(message if isinstance(message, str) else message[0])
    return out


def catalog_ids(path: Path, locale: str | None = None) -> dict[str, object]:
    with path.open("rb") as f:
        cat = read_po(f, locale=locale)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in cat if m.id}


def test_the_catalog_template_is_up_to_date() -> None:
    pot = set(catalog_ids(i18n.LOCALE_DIR / "messages.pot"))
    assert extracted() == pot, "run pybabel extract -F babel.cfg (docs/web.md)"


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_every_message_is_translated(lang: str) -> None:
    pot = catalog_ids(i18n.LOCALE_DIR / "messages.pot")
    po = catalog_ids(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", lang)
    assert set(po) == set(pot)
    bad = []
    for key, m in po.items():
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        if m.fuzzy or not all(strings):
            bad.append(f"{key!r}: untranslated or fuzzy")
            continue
        want = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) - want or (want - {"num"}) - set(PLACEHOLDER.findall(s)):
                bad.append(f"{key!r}: placeholders {sorted(want)} vs {s!r}")
    assert bad == []


def test_catalogs_compile_and_translate() -> None:
    assert i18n.translations("fr").gettext("Sign in") == "Connexion"
    assert i18n.translations("es").gettext("Sign in") == "Iniciar sesión"
    assert i18n.gettext_functions("es")["ngettext"]("%(num)s agent", "%(num)s agents", 3) \
        == "3 agentes"
