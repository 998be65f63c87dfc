"""Country names, ISO codes, whole-span aliases and demonyms: the one place
newsflow keeps them (``data/countries.json``).

Whole-span aliases only: "US" is the country, "US State Department" is not.
Acronyms match exactly (dots removed) so that "Us" or "us" never becomes a
country; written-out names match case-insensitively.
"""

from __future__ import annotations

from ._lexicon import _load

_DATA = _load("countries.json")

# Canonical country name -> ISO 3166-1 alpha-2, set as ``Entity.country_code``
# on GPE entities with exactly this name.
COUNTRY_CODES: dict[str, str] = {c["name"]: c["code"] for c in _DATA["countries"]}
_ALIASES: dict[str, tuple[str, ...]] = {
    **{c["name"]: tuple(c["aliases"]) for c in _DATA["countries"] if c["aliases"]},
    **{name: tuple(forms) for name, forms in _DATA["other_aliases"].items()},
}
# Demonym -> ISO code ("Iraqi" -> "IQ"), for the countries named here and others.
DEMONYMS: dict[str, str] = {
    **{d: c["code"] for c in _DATA["countries"] for d in c["demonyms"]},
    **{d: code for code, names in _DATA["demonyms_only"].items() for d in names},
}


def _alias_key(text: str) -> str:
    return text.replace(".", "").replace("’", "'")


_ACRONYM_ALIASES: dict[str, str] = {}
_WORD_ALIASES: dict[str, str] = {}
for _canonical, _forms in _ALIASES.items():
    for _form in (_canonical, *_forms):
        _key = _alias_key(_form)
        if _key.isupper():
            _ACRONYM_ALIASES[_key] = _canonical
        else:
            _WORD_ALIASES[_key.casefold()] = _canonical


def country_aliases(name: str) -> tuple[str, ...]:
    """The aliases of a canonical country name ("United States" -> "US", "America", ...)."""
    return _ALIASES.get(name, ())


def canonical_alias(name: str) -> str | None:
    """The canonical name ``name`` is an alias of as a whole ("U.S." -> "United
    States"), else ``None``."""
    key = _alias_key(name)
    return _ACRONYM_ALIASES.get(key) or _WORD_ALIASES.get(key.casefold())
