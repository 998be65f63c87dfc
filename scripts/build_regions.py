"""Build ``services/enrich/data/regions.tsv``: first-level regions with their codes.

Input: GeoNames ``admin1CodesASCII.txt`` (https://download.geonames.org/export/dump/,
CC BY 4.0: "GeoNames, www.geonames.org"), one line per first-level region:
``<country>.<admin1>  name  ascii name  geonameid``. Each region is matched to its
ISO 3166-2 code through the installed ``pycountry`` (same country, folded name, then
the name without words such as "Province", "State" or "Region"); a region with no
match keeps an empty ISO column.

Output columns (tab-separated, sorted by key): GeoNames key (``CA.07``), ISO 3166-2
code (``CA-NS``) or empty, GeoNames id, name, ASCII name when it differs.

    python scripts/build_regions.py /path/to/admin1CodesASCII.txt
"""

from __future__ import annotations

import datetime
import importlib.metadata
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import pycountry

OUT = Path(__file__).resolve().parent.parent / "services" / "enrich" / "data" / "regions.tsv"
_GENERIC = re.compile(
    r"\b(province|provincia|state|region|county|department|departement|district|oblast|"
    r"governorate|prefecture|autonomous|republic|of|the|municipality|territory|division|"
    r"voivodeship|kray|krai|canton|land|city|capital|special|administrative)\b"
)


def fold(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", plain).split())


def core(name: str) -> str:
    return " ".join(_GENERIC.sub(" ", fold(name)).split())


def main(source: Path) -> int:
    by_country: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for sub in pycountry.subdivisions:
        if sub.parent_code is None:
            # "Wales; Cymru", "Bruxelles-Capitale, Région de; Brussels Hoofdstedelijk Gewest"
            for part in re.split(r"[;/]", sub.name):
                by_country[sub.country_code].append((sub.code, part.strip()))
    lines: list[str] = []
    mapped = 0
    for raw in source.read_text(encoding="utf-8").splitlines():
        key, name, ascii_name, geonameid = raw.split("\t")
        country = key.split(".")[0]
        options = by_country.get(country, [])
        iso = ""
        for test in (fold, core):
            hits = {code for code, sub_name in options if test(sub_name) == test(name)}
            hits |= {code for code, sub_name in options if test(sub_name) == test(ascii_name)}
            if len(hits) == 1 and test(name):
                iso = hits.pop()
                break
        if not iso and f"{country}-{key.split('.')[1]}" in {c for c, _ in options}:
            iso = f"{country}-{key.split('.')[1]}"  # GeoNames uses the ISO code: GB.WLS
        mapped += bool(iso)
        extra = ascii_name if ascii_name != name else ""
        lines.append("\t".join((key, iso, geonameid, name, extra)).rstrip("\t"))
    lines.sort()
    OUT.write_text(
        "# First-level regions: GeoNames key, ISO 3166-2, GeoNames id, name, ASCII name.\n"
        "# Built by scripts/build_regions.py from GeoNames admin1CodesASCII.txt (CC BY 4.0,\n"
        "# GeoNames, www.geonames.org; the file as of 2023-04) and pycountry "
        f"{importlib.metadata.version('pycountry')}'s ISO 3166-2 subdivisions;\n"
        f"# {len(lines)} regions, {mapped} with an ISO code; built {datetime.date.today()}.\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(lines)} regions, {mapped} with an ISO 3166-2 code -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
