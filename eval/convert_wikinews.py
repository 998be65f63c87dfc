"""Convert the English WikinewsSum sample to two newsflow dev sets.

Source: the ``endataset.json`` sample of github.com/airKlizz/WikinewsSum (commit
1d985031), 101 English Wikinews articles of late 2004 / 2005 with their
categories and the text of the news pages they cite.

* ``wikinews``: the Wikinews articles themselves (wikitext reduced to plain text).
  Licence: Wikinews content is CC BY 2.5 -> may be used for training with
  attribution. Gold topics: every Wikinews top-level category the article has.
* ``outlets``: the English pages of news outlets that those articles cite (CNN,
  Reuters, the Guardian, the New York Times, Yahoo News, the Age, ...), full
  length, labelled with the citing article's topics. These pages are copyrighted:
  MEASURE ONLY, never train on them (``trainable: false``). BBC pages are left out,
  because the 2004-05 BBC News corpus is a held-out acceptance set; so are pages of
  agencies, companies and blogs that are not news outlets, and pages under 120 words.

Usage::

    python eval/convert_wikinews.py endataset.json [--out ../data/topics]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from _common import DATA_DIR, write_splits

CATEGORIES = {
    "Crime and law": "crime-law-and-justice",
    "Culture and entertainment": "arts-culture-entertainment-and-media",
    "Disasters and accidents": "disaster-accident-and-emergency-incident",
    "Economy and business": "economy-business-and-finance",
    "Education": "education",
    "Environment": "environment",
    "Health": "health",
    "Politics and conflicts": "politics-and-government",
    "Science and technology": "science-and-technology",
    "Sports": "sport",
    "Weather": "weather",
    "Religion": "religion",
}
# Wikinews' own topic categories that name one IPTC topic more precisely.
EXTRA = {
    "Earthquakes": "disaster-accident-and-emergency-incident",
    "Elections": "politics-and-government",
    "Football (soccer)": "sport",
    "Cricket": "sport",
    "Space": "science-and-technology",
    "Internet": "science-and-technology",
    "Computing": "science-and-technology",
}
OUTLETS = (
    "abcnews.go.com",
    "latimes.com",
    "atimes.com",
    "cricinfo.com",
    "iol.ie",
    "indiatimes.com",
    "cnn.com",
    "guardian.co.uk",
    "msnbc.msn.com",
    "news.com.com",
    "independent.co.uk",
    "scotsman.com",
    "xinhuanet.com",
    "news.yahoo.com",
    "wsj.com",
    "seattlepi",
    "spaceflightnow",
    "washingtontimes.com",
    "wired.com",
    "abc.net.au",
    "alertnet.org",
    "belfasttelegraph",
    "bloomberg.com",
    "boston.com",
    "chinadaily",
    "csmonitor.com",
    "floridatoday",
    "forbes.com",
    "freep.com",
    "ipsnews.net",
    "itv.com",
    "japantimes",
    "kansascity.com",
    "komotv.com",
    "lsj.com",
    "miami.com",
    "news24.com",
    "npr.org",
    "nytimes.com",
    "realcities.com",
    "reuters.co",
    "rte.ie",
    "salon.com",
    "sfexaminer",
    "sfgate.com",
    "signonsandiego",
    "sky.com",
    "sltrib.com",
    "smh.com.au",
    "taipeitimes",
    "telegraph.co.uk",
    "theage.com.au",
    "theaustralian",
    "thehindubusinessline",
    "theledger.com",
    "upi.com",
    "usatoday.com",
    "voanews.com",
    "washingtonpost.com",
    "news.vu",
    "indianexpress",
    "pcworld",
    "infoworld",
    "informationweek",
    "internetnews",
    "physorg",
    "spacedaily",
    "sciencemag",
    "nature.com",
)

_LINK = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]")
_W = re.compile(r"\{\{w\|(?:[^}|]*\|)?([^}]*)\}\}")
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")


def plain(wikitext: str) -> str:
    """Wikitext reduced to readable text: links keep their label, templates go."""
    text = _W.sub(r"\1", wikitext)
    text = _LINK.sub(lambda m: "" if ":" in m.group(0)[:12] else m.group(1), text)
    for _ in range(3):
        text = _TEMPLATE.sub("", text)
    text = re.sub(r"'{2,}", "", text)
    text = re.sub(r"\{publish\}\}|\{\{[^}]*$", "", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("{{byline|date", "")
    return "\n\n".join(p.strip() for p in text.split("\n") if len(p.split()) >= 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    articles, outlets = [], []
    for number, line in enumerate(args.source.read_text(encoding="utf-8").splitlines()):
        item = json.loads(line)
        topics: list[str] = []
        for category in item["categories"]:
            slug = CATEGORIES.get(category)
            if slug and slug not in topics:
                topics.append(slug)
        label = topics[0] if topics else None
        for category in item["categories"]:
            slug = EXTRA.get(category)
            if slug and slug not in topics:
                topics.append(slug)
                label = label or slug
        if not topics or label is None:
            continue
        raw = item["text"] if isinstance(item["text"], list) else [item["text"]]
        body = plain("\n".join(raw))
        if len(body.split()) >= 25:
            articles.append(
                {
                    "id": f"wikinews-{number}",
                    "title": item["title"],
                    "body": body,
                    "label": label,
                    "topics": topics,
                    "source": "wikinews",
                    "year": 2004,
                }
            )
        for k, source in enumerate(item["sources"]):
            host = source["url"].split("/")[2] if "//" in source["url"] else ""
            if source.get("language") != "en" or "bbc.co" in host:
                continue
            if not any(outlet in host for outlet in OUTLETS):
                continue
            lines = [ln.strip() for ln in source["maintext"].split("\n") if ln.strip()]
            if sum(len(ln.split()) for ln in lines) < 120:
                continue
            title = source.get("title") or lines[0]
            if lines and lines[0] == title:
                lines = lines[1:]
            outlets.append(
                {
                    "id": f"outlets-{number}-{k}",
                    "title": title,
                    "body": "\n\n".join(lines),
                    "label": label,
                    "topics": topics,
                    "source": "outlets",
                    "host": host,
                    "year": 2004,
                }
            )
    write_splits("wikinews", articles, args.out, trainable=True)
    write_splits("outlets", outlets, args.out, trainable=False)


if __name__ == "__main__":
    main()
