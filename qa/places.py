"""Whether a phrase names a place: a country (by any of its names), its capital, a state or
province, a continent or world region, or a nationality ("Japanese" says which country).

"Which country", "which state" and "where" are answered by such names. A capitalised word in
general is no place ("JMA announced a Level 5 alert"), and taking every one for a place made a
sentence that only restates the question look like an answer. The countries, their provinces,
capitals and demonyms come from ``countryinfo``'s data; the continents and the compass regions
news copy names ("the Southwest", "the Middle East") are listed here.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from countryinfo import CountryInfo

__all__ = ["is_place", "prepare_places"]

_REGIONS = (
    "Africa",
    "Antarctica",
    "Asia",
    "Europe",
    "North America",
    "South America",
    "Latin America",
    "Central America",
    "Oceania",
    "the Americas",
    "Middle East",
    "Far East",
    "Caribbean",
    "Balkans",
    "Scandinavia",
    "Arctic",
    "North",
    "South",
    "East",
    "West",
    "Midwest",
    "Northeast",
    "Northwest",
    "Southeast",
    "Southwest",
)
# "Abu Zaby (Abu Dhabi)", "Adygeya (Maykop)": a province's name and, in brackets, its other.
_BRACKETED = re.compile(r"\s*\(([^)]*)\)")


def _key(name: str) -> str:
    """Lower case without accents: "Kābul" is "kabul"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


@functools.cache
def _gazetteer() -> frozenset[str]:
    names: list[str] = list(_REGIONS)
    for country in CountryInfo.all().values():
        for field in ("name", "capital", "altSpellings", "demonym", "region", "subregion"):
            names += _strings(country.get(field))
        for province in _strings(country.get("provinces")):
            names.append(_BRACKETED.sub("", province))
            names += _BRACKETED.findall(province)
    return frozenset(_key(n) for n in names if n.strip())


def _strings(value: object) -> list[str]:
    """A field's names: one string, a list of them, or "Antiguan,Barbudan"."""
    values = value if isinstance(value, list) else [value]
    return [part for v in values if isinstance(v, str) for part in v.split(",")]


def is_place(phrase: str) -> bool:
    """Whether ``phrase`` is a place's name as a whole ("Virginia", "Saudi Arabia", "US")."""
    return _key(phrase) in _gazetteer()


def prepare_places() -> None:
    """Read the place names now: a server does it before its first question."""
    _gazetteer()
