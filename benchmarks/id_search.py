"""The web page's user and item boxes at a large catalogue: one search per keystroke.

Makes a catalogue of ``--items`` items (200,000 by default) with Amazon-like ids (``B0`` and
eight capitals or digits) and titles of five words, in a random order (the item box's: the
most rated first), and times :class:`whyrec.id_search.IdSearch` against the search it
replaced, which lower-cased and tested each id and title in turn (kept here as the reference),
for queries that many, few and no items hold, asking for the page's 20 answers. Each query is
timed ``--repeats`` times (median), after the first search that makes the joined text (timed
apart). Both must give the same answers, or the script stops. Writes
benchmarks/results/id_search.{json,md}.

    python benchmarks/id_search.py [--items N] [--repeats R] [--out DIR]

A query no id holds goes on, in the service, to the close-id search
(:meth:`whyrec.data.IdMap.close`), which is not timed here: it is the same before and after.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import time
from pathlib import Path

from whyrec.id_search import IdSearch
from whyrec.ids import stripped_id

from shared_data import RESULTS, machine, provenance

WORDS = ["magazine", "gift", "card", "guitar", "string", "music", "digital", "kids", "monthly", "cooking",
         "news", "travel", "garden", "science", "sport", "photo", "home", "health", "vinyl", "edition"]
LIMIT = 20  # what the page asks for


def catalogue(size: int, seed: int = 0) -> tuple[list[str], list[int], dict[str, str]]:
    """``size`` distinct ids, the search order (a permutation) and a title per id."""
    rng = random.Random(seed)
    ids: dict[str, None] = {}
    while len(ids) < size:
        ids["B0" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))] = None
    keys = list(ids)
    order = list(range(size))
    rng.shuffle(order)
    return keys, order, {key: " ".join(rng.choices(WORDS, k=5)).title() for key in keys}


def one_by_one(ids, order, names, query: str, limit: int) -> list[int]:
    """The search before ``IdSearch``: each id and title lower-cased and tested in turn."""
    q = stripped_id(query).lower()
    found = []
    for n in order:
        key = ids[n]
        if q in key.lower() or q in names.get(key, "").lower():
            found.append(n)
            if len(found) >= limit:
                break
    return found


def median_ms(search, query: str, repeats: int) -> tuple[float, list[int]]:
    times, answer = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        answer = search(query, LIMIT)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ids, order, names = catalogue(args.items)
    some_id = ids[order[len(order) // 2]]
    queries = {  # what each query is, by how many items hold it
        "a common title word": "guitar",
        "two title words": "music kids",
        "an id's first five characters": some_id[:5],
        "a whole id": some_id,
        "a typo'd id (held by none)": some_id[:-1] + ("X" if some_id[-1] != "X" else "Y"),
        "words of no title (held by none)": "no such item",
    }
    search = IdSearch(ids, order, names)
    start = time.perf_counter()
    search.holding("first", LIMIT)  # makes the joined text
    made_ms = (time.perf_counter() - start) * 1000
    rows = []
    for what, query in queries.items():
        before_ms, before = median_ms(lambda q, k: one_by_one(ids, order, names, q, k), query, args.repeats)
        after_ms, after = median_ms(search.holding, query, args.repeats)
        if before != after:
            raise SystemExit(f"the searches differ for {query!r}: {before[:5]} against {after[:5]}")
        rows.append({"query": what, "text": query, "answers": len(after), "one_by_one_ms": round(before_ms, 2),
                     "id_search_ms": round(after_ms, 2)})
    summary = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "machine": machine(), "items": args.items,
               "repeats": args.repeats, "limit": LIMIT, "first_search_ms": round(made_ms, 1), "rows": rows,
               "provenance": provenance()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "id_search.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    lines = [f"# The page's id search at {args.items:,} items", "",
             f"Measured {summary['date']} on {summary['machine']}; median of {args.repeats} searches, "
             f"up to {LIMIT} answers. The first search, which makes the joined text, took {made_ms:.0f} ms.", "",
             "| query | answers | one by one (ms) | IdSearch (ms) |", "|---|---|---|---|"]
    lines += [f"| {r['query']} | {r['answers']} | {r['one_by_one_ms']:.2f} | {r['id_search_ms']:.2f} |" for r in rows]
    (args.out / "id_search.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
